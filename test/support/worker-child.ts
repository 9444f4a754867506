/**
 * A test worker in a process of its own, serving the fixture tasks on the task queue named by
 * argv[2], so a test can SIGKILL it as a crash would. Prints `ready` once it polls.
 */
import { testTasks } from '../fixtures/tasks';
import { startTestWorker } from './test-worker';

void startTestWorker(testTasks, process.argv[2] ?? 'test-child').then(() => process.stdout.write('ready\n'));
