// The KPI page's figures from `insights(from:, to:)`: totals over the range (rates recomputed from the summed
// counts, never averaged) and the series each chart draws.
import type { InsightsQuery } from '../gql/generated'

export type Day = InsightsQuery['insights'][number]

export interface KpiSeries {
  name: string
  kind: 'bar' | 'line'
  data: (number | null)[]
  percent?: boolean  // a ratio (0..1), drawn as a percentage on the right axis
  money?: boolean    // fen, drawn as yuan
}

type Counted = { [K in keyof Day]: Day[K] extends number ? K : never }[keyof Day]

export function total(days: Day[], key: Counted): number {
  return days.reduce((sum, d) => sum + (d[key] as number), 0)
}

export function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null
}

export function totals(days: Day[]) {
  const t = (key: Counted) => total(days, key)
  return {
    newMembers: t('newMembers'), orders: t('orders'), gmvFen: t('gmvFen'), netGmvFen: t('netGmvFen'),
    refundFen: t('refundFen'), aovFen: t('orders') ? Math.floor(t('gmvFen') / t('orders')) : null,
    firstOrders: t('firstOrders'),
    repurchase30: ratio(t('repurchasedWithin30Days'), t('firstOrders')),
    repurchase90: ratio(t('repurchasedWithin90Days'), t('firstOrders')),
    pointsIssued: t('pointsIssued'), pointsRedeemed: t('pointsRedeemed'), pointsExpired: t('pointsExpired'),
    pointsRedemption: ratio(t('pointsRedeemed'), t('pointsIssued')),
    couponsClaimed: t('couponsClaimed'), couponsUsed: t('couponsUsed'),
    couponRedemption: ratio(t('couponsUsed'), t('couponsClaimed')),
    referralConversions: t('referralConversions'), alerts: t('alerts'),
  }
}

export interface ChartSpec { id: string; title: string; series: KpiSeries[] }

export function charts(days: Day[]): ChartSpec[] {
  const col = <K extends keyof Day>(key: K) => days.map((d) => d[key] as unknown as number | null)
  return [
    { id: 'members', title: '会员与订单', series: [
      { name: '新增会员', kind: 'bar', data: col('newMembers') },
      { name: '活跃会员', kind: 'bar', data: col('activeMembers') },
      { name: '订单数', kind: 'line', data: col('orders') },
    ] },
    { id: 'gmv', title: '交易额（元）', series: [
      { name: 'GMV', kind: 'bar', data: col('gmvFen'), money: true },
      { name: '净 GMV（减退款）', kind: 'bar', data: col('netGmvFen'), money: true },
      { name: '客单价', kind: 'line', data: col('aovFen'), money: true },
    ] },
    { id: 'repurchase', title: '复购率（按首单日）', series: [
      { name: '首单会员', kind: 'bar', data: col('firstOrders') },
      { name: '30 天复购率', kind: 'line', data: col('repurchaseRate30'), percent: true },
      { name: '90 天复购率', kind: 'line', data: col('repurchaseRate90'), percent: true },
    ] },
    { id: 'points', title: '积分', series: [
      { name: '发放', kind: 'bar', data: col('pointsIssued') },
      { name: '使用', kind: 'bar', data: col('pointsRedeemed') },
      { name: '过期', kind: 'bar', data: col('pointsExpired') },
      { name: '使用率', kind: 'line', data: col('pointsRedemptionRate'), percent: true },
    ] },
    { id: 'coupons', title: '优惠券', series: [
      { name: '领取', kind: 'bar', data: col('couponsClaimed') },
      { name: '使用', kind: 'bar', data: col('couponsUsed') },
      { name: '核销率', kind: 'line', data: col('couponRedemptionRate'), percent: true },
    ] },
    { id: 'referrals', title: '邀请转化与预警', series: [
      { name: '邀请转化', kind: 'bar', data: col('referralConversions') },
      { name: '预警', kind: 'bar', data: col('alerts') },
    ] },
  ]
}
