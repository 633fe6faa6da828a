// Loading a page's data, and running a mutation with its outcome shown to the member.
import { ref, onMounted, type Ref } from 'vue'
import { showFailToast, showLoadingToast, showSuccessToast, closeToast } from 'vant'
import { ApiError, isFailure, mutate } from './api'

export function useQuery<T>(load: () => Promise<T>): { data: Ref<T | null>; error: Ref<string>; loading: Ref<boolean>; reload: () => Promise<void> } {
  const data = ref<T | null>(null) as Ref<T | null>
  const error = ref('')
  const loading = ref(true)
  async function reload() {
    loading.value = true
    try {
      data.value = await load()
      error.value = ''
    } catch (e) {
      error.value = e instanceof ApiError ? e.message : '加载失败，请稍后再试'
    } finally {
      loading.value = false
    }
  }
  onMounted(reload)
  return { data, error, loading, reload }
}

// Runs a mutation: a business error's message is shown as it is (the API's words), success calls `done`.
export async function act<T extends { __typename: string }>(
  name: string, field: string, variables: Record<string, unknown> | undefined,
  done: (result: T) => string | void,
): Promise<T | null> {
  try {
    const result = await mutate<T>(name, field, variables, (text) => showLoadingToast({ message: text, forbidClick: true }))
    closeToast()
    if (isFailure(result)) {
      showFailToast({ message: result.message, wordBreak: 'break-word', duration: 3000 })
      return result
    }
    const text = done(result)
    if (text) showSuccessToast({ message: text, wordBreak: 'break-word' })
    return result
  } catch (e) {
    closeToast()
    showFailToast(e instanceof ApiError ? e.message : '操作失败，请稍后再试')
    return null
  }
}
