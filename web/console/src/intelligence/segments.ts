// The brand's segments as the intelligence pages group them: lifecycle stages (the funnel), value layers, the RFM
// groups on their grid, personas. Codes and counts come from `segments`; the thresholds shown beside them are the
// brand's segments parameters over the plugin's presets (plugins/segments/model.py PRESETS).
import { gql } from '../api'
import type { PluginsQuery, SegmentsQuery } from '../gql/generated'
import { STAGE_ORDER } from '../format'

export type Segment = SegmentsQuery['segments'][number]

export const STAGE_CODES = STAGE_ORDER.map((s) => `STAGE_${s}`)
export const VALUE_CODES = ['VALUE_HIGH', 'VALUE_MEDIUM', 'VALUE_LOW']
export const PERSONA_CODES = ['PERSONA_HIGH_NET_WORTH', 'PERSONA_HIGH_FREQUENCY', 'PERSONA_GROWTH', 'PERSONA_DORMANT']

// The RFM grid: recency in rows, frequency x monetary in columns; each cell is one named group.
export const RFM_ROWS = [
  { key: 'recent', label: '近期有消费（R 高）' },
  { key: 'quiet', label: '近期无消费（R 低）' },
]
export const RFM_COLUMNS = [
  { key: 'fm', label: '频次高 · 金额高' },
  { key: 'm', label: '频次低 · 金额高' },
  { key: 'f', label: '频次高 · 金额低' },
  { key: '', label: '频次低 · 金额低' },
]
export const RFM_GRID: Record<string, Record<string, string>> = {
  recent: { fm: 'RFM_IMPORTANT_VALUE', m: 'RFM_IMPORTANT_DEVELOP', f: 'RFM_GENERAL_VALUE', '': 'RFM_GENERAL_DEVELOP' },
  quiet: { fm: 'RFM_IMPORTANT_KEEP', m: 'RFM_IMPORTANT_RETAIN', f: 'RFM_GENERAL_KEEP', '': 'RFM_GENERAL_RETAIN' },
}
export const RFM_CODES = Object.values(RFM_GRID).flatMap((row) => Object.values(row))

const PRESETS = {
  lifecycle: { newDays: 30, sleepingDays: 30, dormantDays: 180, lostDays: 365 },
  rfm: { recentDays: 30, frequentPerMonth: 3, rarePerQuarter: 1, aovMediumFen: 10_000, aovHighFen: 30_000,
    highValueTopPercent: 20, highValueNetFen: 500_000, mediumValueNetFen: 100_000, socialReferrals: 3 },
  personas: { highNetWorthFen: 5_000_000, highFrequencyPerMonth: 4, growthPercent: 30, dormantDays: 180 },
}
// The high-value line the daily computation drew from the brand's spend distribution (null before the first one:
// the fixed highValueNetFen applies until then).
export type ValueLine = { fen: number; buyers: number; high: number; topPercent: number; computedAt: string }
export type SegmentSettings = typeof PRESETS & { profilingNeedsConsent: boolean; enabled: boolean; valueLine: ValueLine | null }

export async function loadSegments(): Promise<Map<string, Segment>> {
  const data = await gql<SegmentsQuery>('Segments')
  return new Map(data.segments.map((s) => [s.code, s]))
}

export async function loadSettings(): Promise<SegmentSettings> {
  const data = await gql<PluginsQuery>('Plugins')
  const plugin = data.plugins.find((p) => p.name === 'segments')
  const params = (plugin?.params ?? {}) as Record<string, any>
  return {
    lifecycle: { ...PRESETS.lifecycle, ...(params.lifecycle ?? {}) },
    rfm: { ...PRESETS.rfm, ...(params.rfm ?? {}) },
    personas: { ...PRESETS.personas, ...(params.personas ?? {}) },
    profilingNeedsConsent: params.profilingNeedsConsent ?? true,
    enabled: !!plugin?.enabled,
    valueLine: params.valueLine?.fen != null ? params.valueLine : null,
  }
}

// What puts a member in each stage, in the operators' words.
export function stageRule(stage: string, s: SegmentSettings): string {
  const l = s.lifecycle
  return {
    PROSPECT: '已注册，尚未下单',
    NEW: `首单后 ${l.newDays} 天内`,
    ACTIVE: `${l.sleepingDays} 天内有购买`,
    SLEEPING: `${l.sleepingDays} 天未购买`,
    DORMANT: `${l.dormantDays} 天未购买`,
    LOST: `${l.lostDays} 天未购买`,
  }[stage] ?? ''
}

export function share(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '—'
}
