// Deliberately wrong uses of the generated Database type: tsc must reject
// every line marked WRONG, and only those (openapi.test.mjs).
import { createClient } from '@supabase/supabase-js'
import type { Database } from './shop.types.js'

const shop = createClient<Database>('http://127.0.0.1:1', 'anon-key')

export async function wrong(): Promise<void> {
  const { data } = await shop.from('product').select('name, price')
  const price: string = data![0].price // WRONG: price is a number
  await shop.from('product').insert({ name: 'Tea', category: 'drinks' }) // WRONG: price is required
  await shop.from('product').insert({ name: 'Tea', price: 1, category: 'drinks', colour: 'red' }) // WRONG: no such field
  await shop.rpc('checkout', { product_id: 1 }) // WRONG: quantity is required
  void price
}
