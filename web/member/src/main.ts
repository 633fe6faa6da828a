import { createApp } from 'vue'
import { createRouter, createWebHashHistory } from 'vue-router'
import Vant from 'vant'
import 'vant/lib/index.css'
import './style.css'
import App from './App.vue'
import { session } from './api'
import Login from './pages/Login.vue'
import Card from './pages/Card.vue'
import Points from './pages/Points.vue'
import Coupons from './pages/Coupons.vue'
import Invite from './pages/Invite.vue'
import Profile from './pages/Profile.vue'
import Privacy from './pages/Privacy.vue'
import Mine from './pages/Mine.vue'

// Hash routes: the built pages are static files (S3 + CloudFront, or /m/ locally) with no server-side rewrites.
const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/card' },
    { path: '/login', component: Login, meta: { title: '登录', public: true } },
    { path: '/card', component: Card, meta: { title: '会员卡', tab: true } },
    { path: '/points', component: Points, meta: { title: '我的积分', tab: true } },
    { path: '/coupons', component: Coupons, meta: { title: '优惠券', tab: true } },
    { path: '/mine', component: Mine, meta: { title: '我的', tab: true } },
    { path: '/invite', component: Invite, meta: { title: '邀请好友' } },
    { path: '/profile', component: Profile, meta: { title: '个人资料' } },
    { path: '/privacy', component: Privacy, meta: { title: '隐私与数据' } },
  ],
})

router.beforeEach((to) => {
  if (!to.meta.public && !session.token) return { path: '/login', query: to.query }
  document.title = `${to.meta.title ?? '会员中心'} · 会员中心`
})

createApp(App).use(router).use(Vant).mount('#app')
