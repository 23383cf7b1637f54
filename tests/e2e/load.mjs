export async function scenarioLoad() { throw new Error('not written yet'); }
