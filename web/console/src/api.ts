// The console's GraphQL client: one POST per operation with the staff token, Busy retried after a short pause.
import operations from './operations.graphql?raw'
import { ApiError, type Client, operationDocuments, post, sleep } from '../../shared/graphql'

const TOKEN_KEY = 'siyu.console.token'

export { API_URL, ApiError } from '../../shared/graphql'

export const session = {
  get token(): string | null { return localStorage.getItem(TOKEN_KEY) },
  signIn(token: string) { localStorage.setItem(TOKEN_KEY, token.trim()) },
  signOut() { localStorage.removeItem(TOKEN_KEY) },
  // What the token says about itself (not verified here: the API verifies every request).
  get claims(): { sub?: string; brand?: string; role?: string; exp?: number } {
    try {
      const payload = (this.token ?? '').split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
      return JSON.parse(decodeURIComponent(escape(atob(payload))))
    } catch { return {} }
  },
}

const client: Client = {
  documentFor: operationDocuments(operations),
  headers: () => ({ 'accept-language': 'zh-CN', ...(session.token ? { authorization: `Bearer ${session.token}` } : {}) }),
  onError(code) {
    if (code === 'UNAUTHENTICATED') {
      session.signOut()
      return new ApiError('登录已过期，请重新登录', code)
    }
    if (code === 'FORBIDDEN') return new ApiError('此令牌没有后台权限（需要员工令牌）', code)
    return undefined
  },
}

export async function gql<T = any>(name: string, variables: Record<string, unknown> = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const data = await post<T>(client, name, variables)
    // A mutation's union answered Busy (contention): try again shortly, at most three times.
    const first = data && Object.values(data)[0] as { __typename?: string } | null
    if (first?.__typename === 'Busy' && attempt < 3) {
      await sleep(400 * (attempt + 1))
      continue
    }
    return data
  }
}

export function failure(result: { __typename: string; message?: string }): string | null {
  return 'message' in result && result.message ? result.message : null
}

export function newKey(): string {
  return `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`
}
