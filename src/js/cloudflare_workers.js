// The module `cloudflare:workers` as Worker code imports it.
export { DurableObject, WorkerEntrypoint, RpcTarget } from "duro:runtime";
