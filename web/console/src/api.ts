// The console's GraphQL client: one POST per operation with the staff token, Busy retried after a short pause.
import operations from './operations.graphql?raw'

const TOKEN_KEY = 'siyu.console.token'

export const API_URL: string = import.meta.env.VITE_SIYU_API_URL || new URL('../graphql', window.location.href).href

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

export class ApiError extends Error {
  constructor(message: string, public code: string) { super(message) }
}

const definitions = new Map<string, string>()
for (const block of operations.split(/^(?=(?:query|mutation|fragment) )/m)) {
  const match = block.match(/^(?:query|mutation|fragment) (\w+)/)
  if (match) definitions.set(match[1], block.replace(/^#.*$/gm, '').trim())
}

function documentFor(name: string): string {
  const text = definitions.get(name)
  if (!text) throw new Error(`unknown operation ${name}`)
  const fragments = [...text.matchAll(/\.\.\.(\w+)/g)].map((m) => m[1]).filter((f) => definitions.has(f))
  return [text, ...[...new Set(fragments)].map((f) => definitions.get(f))].join('\n')
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function gql<T = any>(name: string, variables: Record<string, unknown> = {}): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'accept-language': 'zh-CN' }
  if (session.token) headers.authorization = `Bearer ${session.token}`
  for (let attempt = 0; ; attempt++) {
    let response: Response
    try {
      response = await fetch(API_URL, {
        method: 'POST', headers, body: JSON.stringify({ query: documentFor(name), variables, operationName: name }),
      })
    } catch {
      throw new ApiError('网络不可用，请检查网络后重试', 'NETWORK')
    }
    const body = await response.json().catch(() => null)
    if (!body) throw new ApiError(`服务暂时不可用（${response.status}）`, 'HTTP')
    if (body.errors?.length) {
      const code = body.errors[0].extensions?.code ?? 'ERROR'
      if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') {
        if (code === 'UNAUTHENTICATED') session.signOut()
        throw new ApiError(code === 'FORBIDDEN' ? '此令牌没有后台权限（需要员工令牌）' : '登录已过期，请重新登录', code)
      }
      throw new ApiError(body.errors[0].message, code)
    }
    // A mutation's union answered Busy (contention): try again shortly, at most three times.
    const first = body.data && Object.values(body.data)[0] as { __typename?: string } | null
    if (first?.__typename === 'Busy' && attempt < 3) {
      await sleep(400 * (attempt + 1))
      continue
    }
    return body.data as T
  }
}

export function failure(result: { __typename: string; message?: string }): string | null {
  return 'message' in result && result.message ? result.message : null
}

export function newKey(): string {
  return `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`
}
