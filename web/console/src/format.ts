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

export const KINDS: Record<string, string> = {
  earn: '获得', redeem: '使用', adjust: '人工调整', reverse: '冲正', expire: '过期', take_back: '退款扣回',
  repay: '抵扣欠分', import: '迁移导入',
}

export const LEVELS: Record<string, { text: string; type: 'primary' | 'warning' | 'danger' }> = {
  BLUE: { text: '蓝色', type: 'primary' }, YELLOW: { text: '黄色', type: 'warning' }, RED: { text: '红色', type: 'danger' },
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 0)
}
