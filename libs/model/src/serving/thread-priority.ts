import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the calling thread's scheduling priority (Linux keeps a nice value per thread; elsewhere
 * this does nothing and says so). Scoring threads call it so that the thread answering requests
 * gets a core first: a backlog of decodes then slows the decodes, not every cached answer.
 */
export function lowerThreadPriority(nice: number): boolean {
  try {
    // "<pid>/task/<tid>": the thread's own id, which setpriority(2) accepts in place of a pid
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
