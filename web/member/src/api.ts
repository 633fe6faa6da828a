// The GraphQL client of the member centre: one POST per operation, the member's token as a bearer header, and a
// polite retry when the API says Busy (contention: try again shortly) or RateLimited (wait as long as it says).
import operations from './operations.graphql?raw'
import { type Client, operationDocuments, post as send, sleep } from '../../shared/graphql'

const TOKEN_KEY = 'siyu.member.token'
const BRAND_KEY = 'siyu.member.brand'

export { API_URL, ApiError } from '../../shared/graphql'

export const session = {
  get token(): string | null { return localStorage.getItem(TOKEN_KEY) },
  get brandId(): string { return localStorage.getItem(BRAND_KEY) || 'baiguoyuan' },
  signIn(token: string, brandId: string) {
    localStorage.setItem(TOKEN_KEY, token)
    localStorage.setItem(BRAND_KEY, brandId)
  },
  signOut() { localStorage.removeItem(TOKEN_KEY) },
}

export interface Failure { __typename: string; code: string; message: string; retryAfterSeconds?: number }

const client: Client = {
  documentFor: operationDocuments(operations),
  headers: () => ({ 'accept-language': 'zh-CN', ...(session.token ? { authorization: `Bearer ${session.token}` } : {}) }),
  onError(code) {
    if (code === 'UNAUTHENTICATED') {
      session.signOut()
      window.location.hash = '#/login'
    }
    return undefined
  },
}

function post<T>(name: string, variables: Record<string, unknown> = {}): Promise<T> {
  return send<T>(client, name, variables)
}

export function query<T>(name: string, variables?: Record<string, unknown>): Promise<T> {
  return post<T>(name, variables)
}

export type Notify = (text: string) => void

// A mutation whose result is a union: Busy is retried after a short, growing pause; RateLimited after the pause
// the API asks for when that is short, otherwise the member is told when to come back. Any other business error
// comes back to the page, which shows its message.
export async function mutate<T extends { __typename: string }>(
  name: string, field: string, variables?: Record<string, unknown>, notify?: Notify,
): Promise<T> {
  const pauses = [400, 1000, 2000]
  for (let attempt = 0; ; attempt++) {
    const data = await post<Record<string, T>>(name, variables)
    const result = data[field]
    const failure = result as unknown as Failure
    if (result.__typename === 'Busy' && attempt < pauses.length) {
      notify?.('系统繁忙，正在为你重试…')
      await sleep(pauses[attempt])
      continue
    }
    if (result.__typename === 'RateLimited') {
      const wait = failure.retryAfterSeconds ?? 60
      if (wait <= 3 && attempt < pauses.length) {
        notify?.(`操作太频繁，${wait} 秒后自动重试…`)
        await sleep(wait * 1000)
        continue
      }
      return { ...result, message: `操作太频繁，请 ${formatWait(wait)}后再试` }
    }
    if (result.__typename === 'Busy') {
      return { ...result, message: '系统繁忙，请稍后再试' }
    }
    return result
  }
}

function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} 秒`
  if (seconds < 3600) return `${Math.ceil(seconds / 60)} 分钟`
  return `${Math.ceil(seconds / 3600)} 小时`
}

export function isFailure(result: { __typename: string }): result is Failure & { __typename: string } {
  return 'code' in result && 'message' in result
}
