// TypeScript types for the member centre and the staff console, generated from the committed schema.graphql (the
// API's contract) and the operations each sends (member/src/operations.graphql, console/src/operations.graphql).
// Run by `npm run build:member` and `npm run build:console` (the Makefile).
import type { CodegenConfig } from '@graphql-codegen/cli'

const config: CodegenConfig = {
  schema: '../schema.graphql',
  generates: {
    'member/src/gql/generated.ts': {
      documents: ['member/src/operations.graphql'],
      plugins: ['typescript-operations'],  // v6: operations and the inputs and enums they use
      config: {
        scalars: { DateTime: 'string', Date: 'string', JSON: 'any' },
        enumsAsTypes: true,
        avoidOptionals: { field: true },
        skipTypename: false,
      },
    },
    'console/src/gql/generated.ts': {
      documents: ['console/src/operations.graphql'],
      plugins: ['typescript-operations'],
      config: {
        scalars: { DateTime: 'string', Date: 'string', JSON: 'any' },
        enumsAsTypes: true,
        avoidOptionals: { field: true },
        skipTypename: false,
      },
    },
  },
}
export default config
