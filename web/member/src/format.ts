// Display helpers: dates in the brand's zone (Asia/Shanghai), money in yuan from integer fen.
import type { PointsEntryType } from './gql/generated'
import { reasonText } from '../../shared/reasons'
const zone = 'Asia/Shanghai'

export function day(iso: string | null | undefined): string {
  if (!iso) return '—'
  return new Intl.DateTimeFormat('zh-CN', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(iso))
}

export function dateTime(iso: string): string {
  return new Intl.DateTimeFormat('zh-CN', {
    timeZone: zone, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(new Date(iso))
}

export function yuan(fen: number): string {
  return (fen / 100).toFixed(fen % 100 === 0 ? 0 : 2)
}

export function birthday(value: string | null | undefined): string {
  if (!value) return '未设置'
  // "--MM-DD": month and day only
  return `${Number(value.slice(2, 4))} 月 ${Number(value.slice(5, 7))} 日`
}

const kinds: Record<PointsEntryType, string> = {
  EARN: '获得', REDEEM: '兑换', ADJUST: '调整', REVERSE: '冲正', EXPIRE: '过期', TAKE_BACK: '退款扣回', REPAY: '抵扣欠分', IMPORT: '迁移导入',
}
export function entryKind(kind: PointsEntryType): string {
  return kinds[kind] ?? kind
}

// The "why" of a ledger entry: the API's one-line summary (in Chinese), the reason given with it, and the plugin
// that decided it.
export function why(entry: {
  summary: string; reason: string | null; why: { plugin: string | null; version: string | null } | null
}): string {
  const said = reasonText(entry.reason)
  const reason = entry.reason && !entry.summary.includes(entry.reason) && !entry.summary.includes(said) ? said : ''
  const plugin = entry.why?.plugin ? `插件：${entry.why.plugin}${entry.why.version ? ' v' + entry.why.version : ''}` : ''
  return [entry.summary, reason, plugin].filter(Boolean).join(' · ') || '—'
}
