// What the member centre and the staff console share about talking to the API: operations by name from an app's
// operations.graphql, one POST per operation, and errors turned into an ApiError with a message a person can read.
// Each app keeps its own token storage, headers and retry policy in its own api.ts.

// The API is the page's own origin (`make dev`, CloudFront's /graphql behaviour) unless the build names another.
export const API_URL: string = import.meta.env.VITE_SIYU_API_URL || new URL('../graphql', window.location.href).href

export class ApiError extends Error {
  constructor(message: string, public code: string) { super(message) }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// One document per request (each operation with the fragments it spreads) keeps requests small.
export function operationDocuments(operations: string): (name: string) => string {
  const definitions = new Map<string, string>()
  for (const block of operations.split(/^(?=(?:query|mutation|fragment) )/m)) {
    const match = block.match(/^(?:query|mutation|fragment) (\w+)/)
    if (match) definitions.set(match[1], block.replace(/^#.*$/gm, '').trim())
  }
  return (name: string) => {
    const text = definitions.get(name)
    if (!text) throw new Error(`unknown operation ${name}`)
    // Fragments spread by fragments too, each once.
    const wanted = new Set<string>()
    const queue = [text]
    while (queue.length) {
      for (const [, fragment] of queue.pop()!.matchAll(/\.\.\.(\w+)/g)) {
        if (definitions.has(fragment) && !wanted.has(fragment)) {
          wanted.add(fragment)
          queue.push(definitions.get(fragment)!)
        }
      }
    }
    return [text, ...[...wanted].map((f) => definitions.get(f))].join('\n')
  }
}

export interface Client {
  documentFor: (name: string) => string
  headers: () => Record<string, string>
  // The app's answer to an error code (sign out, a message of its own); undefined keeps the API's message.
  onError?: (code: string, message: string) => ApiError | undefined
}

// POST one operation; the data, or an ApiError (the network, a non-JSON answer, or the first GraphQL error).
export async function post<T>(client: Client, name: string, variables: Record<string, unknown> = {}): Promise<T> {
  let response: Response
  try {
    response = await fetch(API_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...client.headers() },
      body: JSON.stringify({ query: client.documentFor(name), variables, operationName: name }),
    })
  } catch {
    throw new ApiError('网络不可用，请检查网络后重试', 'NETWORK')
  }
  const body = await response.json().catch(() => null)
  if (!body) throw new ApiError(`服务暂时不可用（${response.status}）`, 'HTTP')
  if (body.errors?.length) {
    const code: string = body.errors[0].extensions?.code ?? 'ERROR'
    const message: string = body.errors[0].message
    throw client.onError?.(code, message) ?? new ApiError(message, code)
  }
  return body.data as T
}
