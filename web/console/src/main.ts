import { createApp } from 'vue'
import { createRouter, createWebHashHistory } from 'vue-router'
import ElementPlus, { ElMessage } from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'
import './style.css'
import App from './App.vue'
import { session } from './api'
import Login from './pages/Login.vue'
import Members from './pages/Members.vue'
import MemberPage from './pages/MemberPage.vue'
import Rules from './pages/Rules.vue'
import Alerts from './pages/Alerts.vue'
import Import from './pages/Import.vue'
import Audit from './pages/Audit.vue'
import Lifecycle from './pages/Lifecycle.vue'
import ValueLayers from './pages/ValueLayers.vue'
import SegmentMembers from './pages/SegmentMembers.vue'

// Hash routes: static files on S3 + CloudFront (or /console/ locally) with no server-side rewrites.
const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/members' },
    { path: '/login', component: Login, meta: { title: '登录', public: true } },
    { path: '/members', component: Members, meta: { title: '会员查询' } },
    { path: '/members/:id', component: MemberPage, meta: { title: '会员详情' } },
    { path: '/lifecycle', component: Lifecycle, meta: { title: '生命周期' } },
    { path: '/value', component: ValueLayers, meta: { title: '价值分层' } },
    { path: '/segments/:code', component: SegmentMembers, meta: { title: '分群会员' } },
    // The KPI page draws with ECharts: loaded when first opened, so the rest of the console never downloads it.
    { path: '/kpis', component: () => import('./pages/Kpis.vue'), meta: { title: '经营指标' } },
    { path: '/rules', component: Rules, meta: { title: '规则配置' } },
    { path: '/alerts', component: Alerts, meta: { title: '预警与异常' } },
    { path: '/import', component: Import, meta: { title: '会员导入' } },
    { path: '/audit', component: Audit, meta: { title: '操作日志' } },
  ],
})

// A toast belongs to the page it was raised on: leaving the page takes it away (stacked toasts hid the next page).
router.afterEach(() => ElMessage.closeAll())

router.beforeEach((to) => {
  if (!to.meta.public && !session.token) return { path: '/login' }
  document.title = `${to.meta.title ?? '运营后台'} · 私域运营后台`
})

createApp(App).use(router).use(ElementPlus, { locale: zhCn }).mount('#app')
