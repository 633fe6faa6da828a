// TypeScript types for the member centre, generated from the committed schema.graphql (the API's contract) and
// the operations the pages send (member/src/operations.graphql). Run by `npm run build:member` (the Makefile).
import type { CodegenConfig } from '@graphql-codegen/cli'

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['member/src/operations.graphql'],
  generates: {
    'member/src/gql/generated.ts': {
      plugins: ['typescript-operations'],  // v6: operations and the inputs and enums they use
      config: {
        scalars: { DateTime: 'string', JSON: 'any' },
        enumsAsTypes: true,
        avoidOptionals: { field: true },
        skipTypename: false,
      },
    },
  },
}
export default config
