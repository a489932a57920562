/**
 * Quiet tests that still say what they saw: the measured numbers behind a group of expectations are
 * printed only when one of them fails, appended to its message.
 */
export async function explained(details: unknown, expectations: () => void | Promise<void>): Promise<void> {
  try {
    await expectations();
  } catch (err) {
    if (err instanceof Error) err.message += `\n\nmeasured: ${JSON.stringify(details)}`;
    throw err;
  }
}
