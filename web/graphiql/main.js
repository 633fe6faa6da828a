// GraphiQL for Siyu's local stack, bundled by Vite from npm `graphiql`, React and graphql: it loads offline.
// The local server puts the demo tokens in window.__SIYU__ (infra/local.py), so the first tab runs as is.
import React from 'react'
import { createRoot } from 'react-dom/client'
import { GraphiQL } from 'graphiql'
import 'graphiql/graphiql.css'

const config = window.__SIYU__ || {}
const endpoint = new URL('/graphql', window.location.href).href

// One POST per request, with the headers of the Headers tab (Authorization: Bearer <token>).
async function fetcher(params, options = {}) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(options.headers || {}) },
    body: JSON.stringify(params),
  })
  return response.json()
}

const token = config.memberToken || '<MEMBER_TOKEN printed by make dev>'
const defaultQuery = `# Siyu GraphQL, as the demo member. Headers (tab below):
#   {"Authorization": "Bearer <token>"}
# with MEMBER_TOKEN from \`make dev\` (STAFF_TOKEN for staff
# operations: member(id:), registerMember...). Run: Ctrl-Enter.
query Me {
  me {
    id
    phoneMasked
    tier { code name validUntil }
    nextTier { name growthNeeded }
    points { balance expiringWithin(days: 30) }
  }
}
`

createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery,
    defaultHeaders: JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2),
    defaultEditorToolsVisibility: 'headers',
    shouldPersistHeaders: false,
    isHeadersEditorEnabled: true,
  }),
)
