// Display helpers: dates in the brand's zone (Asia/Shanghai), money in yuan from integer fen.
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

const kinds: Record<string, string> = {
  earn: '获得', redeem: '兑换', adjust: '调整', reverse: '冲正', expire: '过期', commission: '佣金',
}
export function entryKind(kind: string): string {
  return kinds[kind] ?? kind
}

// The "why" of a ledger entry: the rule that decided it and what it was given, as the API explains it.
export function why(entry: { kind: string; reason: string | null; explanation: any }): string {
  const e = entry.explanation
  const parts: string[] = []
  if (entry.reason) parts.push(entry.reason)
  if (e && typeof e === 'object') {
    if (e.rule) parts.push(`规则：${e.rule}`)
    if (e.plugin) parts.push(`插件：${e.plugin}${e.version ? ' v' + e.version : ''}`)
    const inputs = e.inputs && typeof e.inputs === 'object' ? e.inputs : null
    if (inputs) {
      const shown = Object.entries(inputs).slice(0, 4).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
      if (shown.length) parts.push(shown.join('，'))
    }
  }
  return parts.join(' · ') || '—'
}
