export async function scenarioPbxRestart() { throw new Error('not written yet'); }
export async function scenarioWsKill() { throw new Error('not written yet'); }
