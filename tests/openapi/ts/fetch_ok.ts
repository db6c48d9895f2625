// A client generated from `specbase openapi` by openapi-typescript
// (records.api.ts, written by openapi.test.mjs), used through openapi-fetch
// against a running server: the test imports the compiled module and calls
// run(). Lines marked "@ts-expect-error" must be rejected by tsc.
//
// The client asks for application/json only: the document also lists the
// single-object and CSV forms of a response, which openapi-fetch would
// otherwise add to the type of data.
import createClient from 'openapi-fetch'
import type { components, paths } from './records.api.js'

type Product = components['schemas']['product']
type ApiError = components['schemas']['Error']
type ProductUpdate = components['schemas']['productUpdate']

export interface Outcome {
  created: Product[]
  listed: Product[]
  partial: Array<Pick<Product, 'id' | 'name'>>
  conflict: ApiError | undefined
  invalid: ApiError | undefined
  statuses: number[]
}

export async function run(baseUrl: string): Promise<Outcome> {
  const client = createClient<paths, 'application/json'>({ baseUrl })
  const statuses: number[] = []

  const created = await client.POST('/product', {
    params: { header: { Prefer: 'return=representation' } },
    body: [
      { name: 'Typed tea', price: '4.50', category: 'drinks', stock: 0, kind: 'digital' },
      { name: 'Typed mug', price: 12, category: 'kitchen', stock: 3, kind: 'physical' },
    ],
  })
  statuses.push(created.response.status)
  if (!created.data) throw new Error(`POST failed: ${JSON.stringify(created.error)}`)

  const listed = await client.GET('/product', {
    params: { query: { name: 'like.Typed*', order: 'id.asc', limit: 10 } },
  })
  statuses.push(listed.response.status)
  if (!listed.data) throw new Error(`GET failed: ${JSON.stringify(listed.error)}`)

  const partial = await client.GET('/product', {
    params: { query: { select: 'id,name', category: 'eq.kitchen' }, header: { Prefer: 'count=exact' } },
  })
  statuses.push(partial.response.status)

  // a review of a product that does not exist: 409, typed as the Error body
  const conflict = await client.POST('/review', { body: { product: 999999, stars: 3 } })
  statuses.push(conflict.response.status)

  const invalid = await client.GET('/product', { params: { query: { stock: 'eq.many' } } })
  statuses.push(invalid.response.status)

  // @ts-expect-error stars is required
  await client.POST('/review', { body: { product: 1 } })
  // @ts-expect-error stock is an integer
  await client.PATCH('/product', { params: { query: { id: 'eq.1' } }, body: { stock: 'many' } })
  // @ts-expect-error created_at is set by the server, never by a body
  const touch: ProductUpdate = { created_at: '2024-01-01T00:00:00Z' }
  void touch

  return {
    created: created.data,
    listed: listed.data,
    partial: partial.data ?? [],
    conflict: conflict.error,
    invalid: invalid.error,
    statuses,
  }
}
