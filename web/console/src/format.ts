// Dates as the brand's operators read them: Beijing time, to the minute.
export function time(value: string | null | undefined): string {
  if (!value) return '—'
  return new Date(value).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false,
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
}

export function day(value: string | null | undefined): string {
  if (!value) return '—'
  return new Date(value).toLocaleDateString('zh-CN', { timeZone: 'Asia/Shanghai' })
}

export function yuan(fen: number): string {
  return `¥${(fen / 100).toFixed(2)}`
}

// Amounts in reports: ¥7,918.00.
export function money(fen: number): string {
  return `¥${(fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
}

// A threshold in whole yuan, as operators say it: 5,000 元.
export function yuanWhole(fen: number): string {
  return `${(fen / 100).toLocaleString('zh-CN')} 元`
}

export const KINDS: Record<string, string> = {
  earn: '获得', redeem: '使用', adjust: '人工调整', reverse: '冲正', expire: '过期', take_back: '退款扣回',
  repay: '抵扣欠分', import: '迁移导入',
}

// Where a member joined (the API's channel codes).
export const CHANNELS: Record<string, string> = {
  miniprogram: '小程序', wecom: '企业微信', store: '门店', pos: '门店收银', h5: 'H5', app: 'App', import: '迁移导入',
}

// The events a member's activity lists, in the operators' words (an unknown type shows as it is).
export const EVENT_TYPES: Record<string, string> = {
  'order.paid': '订单支付', 'order.refunded': '订单退款', 'order.delivered_late': '订单延迟送达',
  'member.registered': '注册入会', 'member.checked_in': '签到', 'member.engaged': '互动',
  'referral.code_entered': '填写邀请码', 'feedback.received': '收到反馈', 'coupon.issued': '发券',
  'tier.changed': '等级变化', 'points.expiring': '积分即将过期', 'points.expired': '积分过期',
  'segment.entered': '进入分群', 'segment.left': '离开分群', 'lifecycle.changed': '生命周期变化',
  'Scheduled Event': '每日任务',
}

export const LEVELS: Record<string, { text: string; type: 'primary' | 'warning' | 'danger' }> = {
  BLUE: { text: '蓝色', type: 'primary' }, YELLOW: { text: '黄色', type: 'warning' }, RED: { text: '红色', type: 'danger' },
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 0)
}

// Lifecycle stages in the order a member moves through them (the segments plugin's STAGE_<stage> codes); the
// names shown are the API's (`segments { name }`), these only where a page has none at hand.
export const STAGE_ORDER = ['PROSPECT', 'NEW', 'ACTIVE', 'SLEEPING', 'DORMANT', 'LOST'] as const
export const STAGES: Record<string, string> = {
  PROSPECT: '潜在会员（未购买）', NEW: '新客', ACTIVE: '活跃', SLEEPING: '沉睡', DORMANT: '休眠', LOST: '流失',
}

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString('zh-CN')
}

export function percent(ratio: number | null | undefined, digits = 1): string {
  return ratio === null || ratio === undefined ? '—' : `${(ratio * 100).toFixed(digits)}%`
}

// A calendar day (YYYY-MM-DD) in a time zone: the brand's days are what KPIs are counted by.
export function localDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at)
}

export function addDays(isoDay: string, days: number): string {
  const d = new Date(`${isoDay}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}


export { reasonText } from '../../shared/reasons'
