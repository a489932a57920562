/** A small structural-schema checker: the subset of OpenAPI v3 the CRD uses, to test it offline. */
export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  required?: string[];
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  format?: string;
}

export function check(value: unknown, schema: Schema, path = ""): string[] {
  const errors: string[] = [];
  if (schema.enum && !schema.enum.includes(value))
    errors.push(`${path}: not one of ${schema.enum.join("|")}`);
  switch (schema.type) {
    case "object":
      if (value === null || typeof value !== "object" || Array.isArray(value))
        return [`${path}: not an object`];
      for (const key of schema.required ?? []) if (!(key in value)) errors.push(`${path}.${key}: required`);
      for (const [key, child] of Object.entries(value)) {
        const sub = schema.properties?.[key] ?? schema.additionalProperties;
        if (!sub) errors.push(`${path}.${key}: unknown field`);
        else errors.push(...check(child, sub, `${path}.${key}`));
      }
      break;
    case "array":
      if (!Array.isArray(value)) return [`${path}: not an array`];
      if (schema.maxItems !== undefined && value.length > schema.maxItems)
        errors.push(`${path}: too many items`);
      value.forEach((item, i) => errors.push(...check(item, schema.items ?? {}, `${path}[${i}]`)));
      break;
    case "string":
      if (typeof value !== "string") return [`${path}: not a string`];
      if (schema.pattern && !new RegExp(schema.pattern).test(value))
        errors.push(`${path}: does not match ${schema.pattern}`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${path}: too long`);
      break;
    case "integer":
    case "number":
      if (typeof value !== "number" || (schema.type === "integer" && !Number.isInteger(value)))
        return [`${path}: not an ${schema.type}`];
      if (schema.minimum !== undefined && value < schema.minimum)
        errors.push(`${path}: below ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum)
        errors.push(`${path}: above ${schema.maximum}`);
      break;
    case "boolean":
      if (typeof value !== "boolean") errors.push(`${path}: not a boolean`);
      break;
  }
  return errors;
}
