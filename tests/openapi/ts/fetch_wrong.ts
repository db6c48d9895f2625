// Deliberately wrong uses of the client generated from the OpenAPI
// document: tsc must reject every line marked WRONG, and only those
// (openapi.test.mjs).
import createClient from 'openapi-fetch'
import type { paths } from './records.api.js'

const client = createClient<paths, 'application/json'>({ baseUrl: 'http://127.0.0.1:1/rest/v1' })

export async function wrong(): Promise<void> {
  await client.GET('/produce') // WRONG: no such path
  await client.GET('/product', { params: { query: { limit: 'ten' } } }) // WRONG: limit is a number
  await client.POST('/product', { body: { name: 'x', category: 'c' } }) // WRONG: price is required
  await client.POST('/review', { body: { product: 1, stars: 'five' } }) // WRONG: stars is an integer
  await client.PATCH('/review', { body: { product: null } }) // WRONG: a required field is never null
  const { data } = await client.GET('/review')
  const stars: string | undefined = data?.[0]?.stars // WRONG: stars is a number
  void stars
}
