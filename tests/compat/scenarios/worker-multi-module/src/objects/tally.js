import { DurableObject } from "cloudflare:workers";
import { sum, summary } from "../lib/index.js";
import settings from "../settings.json";

export class Tally extends DurableObject {
  async add(value) {
    const values = (await this.ctx.storage.get("values")) ?? [];
    values.push(value);
    await this.ctx.storage.put("values", values);
    return { total: sum(values), summary: summary(values), unit: settings.unit };
  }
}
