// The reasons the engine writes on the entries and coupons it gives itself ("daily check-in", "order <id>",
// "welcome coupon"...), in Chinese for both apps. A reason a person typed (a staff adjustment, a reversal, a
// redemption's own reason) or one not listed here is shown as written.
const REASONS: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^order (.+)$/, (m) => `订单 ${m[1]}`],
  [/^paid part of order (.+)$/, (m) => `订单 ${m[1]} 积分抵现`],
  [/^refund of order (.+)$/, (m) => `订单 ${m[1]} 退款`],
  [/^compensation for late order (.+)$/, (m) => `订单 ${m[1]} 延迟补偿`],
  [/^engagement: (.+)$/, (m) => `互动：${m[1]}`],
  [/^daily check-in$/, () => '每日签到'],
  [/^points reached their expiry$/, () => '积分到期'],
  [/^reversed points landed on an expired lot$/, () => '冲正退回的积分已过期'],
  [/^repays (\d+) points owed$/, (m) => `抵扣欠分 ${m[1]}`],
  [/^birthday (\d+)$/, (m) => `${m[1]} 年生日礼`],
  [/^upgrade gift: (.+)$/, (m) => `升级礼：${m[1]}`],
  [/^welcome coupon$/, () => '入会礼券'],
  [/^claimed by the member$/, () => '会员领取'],
  [/^journey:(.+)$/, (m) => `分群旅程 ${m[1]}`],
]

export function reasonText(reason: string | null | undefined): string {
  if (!reason) return '—'
  for (const [pattern, say] of REASONS) {
    const m = reason.match(pattern)
    if (m) return say(m)
  }
  return reason
}
