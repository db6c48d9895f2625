// Typed use of the Database type printed by `specbase gen ts` with
// @supabase/supabase-js: openapi.test.mjs type-checks it with tsc (no
// request is made). Lines marked "@ts-expect-error" must be rejected.
import { createClient } from '@supabase/supabase-js'
import type { Database, Enums, Tables, TablesInsert, TablesUpdate } from './shop.types.js'
import { Constants } from './shop.types.js'
import type { Database as BlogDatabase, Tables as BlogTables } from './blog.types.js'

const shop = createClient<Database>('http://127.0.0.1:1', 'anon-key')
const blog = createClient<BlogDatabase>('http://127.0.0.1:1', 'anon-key')

export async function products(): Promise<Array<{ name: string; price: number }>> {
  const { data, error } = await shop.from('product').select('name, price').order('price').limit(10)
  if (error) throw new Error(error.message)
  return data
}

export async function newProduct(): Promise<number | undefined> {
  // required fields only; the others are optional (defaults or nullable)
  const row: TablesInsert<'product'> = { name: 'Tea', price: 3.5, category: 'drinks' }
  const { data } = await shop.from('product').insert(row).select('id').single()
  return data?.id
}

export async function restock(id: number): Promise<void> {
  const change: TablesUpdate<'product'> = { stock: 10, tags: ['green', 'loose'] }
  await shop.from('product').update(change).eq('id', id)
  // @ts-expect-error a required field cannot be set to null
  await shop.from('product').update({ name: null }).eq('id', id)
}

export function rows(order: Tables<'order'>, user: Tables<'user'>): string {
  const status: Enums<'order_status'> = order.status
  const role: 'admin' | 'customer' | null = user.role
  const roles: readonly string[] = Constants.public.Enums.user_role
  // @ts-expect-error a password is write-only: never in a row
  user.password
  // @ts-expect-error readonly fields are not accepted on insert
  const placed: TablesInsert<'order'> = { product: 1, qty: 1, status: 'placed' }
  void placed
  return `${order.product}:${order.buyer}:${order.qty}:${status}:${role}:${roles.length}`
}

export async function signUpRow(): Promise<void> {
  // a password is written (Insert) but never read
  await shop.from('user').insert({ email: 'a@example.com', password: 'secret', role: 'customer' })
  // @ts-expect-error not one of the enum's values
  await shop.from('user').insert({ email: 'b@example.com', role: 'owner' })
}

export async function checkout(): Promise<number> {
  const { data, error } = await shop.rpc('checkout', { product_id: 1, quantity: 2 })
  if (error || !data) throw new Error('checkout failed')
  const placed: Tables<'order'> = data.order
  return data.total + placed.qty
}

export async function lowStock(): Promise<string[]> {
  const { data } = await shop.rpc('low_stock', { threshold: 3 })
  return (data ?? []).map((p) => p.name)
}

export async function posts(): Promise<Array<{ title: string; author: number }>> {
  const { data } = await blog.from('post').select('title, author').eq('published', true)
  return data ?? []
}

export function blogRows(post: BlogTables<'post'>, author: BlogTables<'author'>): string | undefined {
  // @ts-expect-error a hidden field is never in a row
  post.flagged
  // a field with a read rule may be left out of a row
  const email: string | undefined = author.email
  return email ?? post.slug
}
