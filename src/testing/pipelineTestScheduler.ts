/**
 * A TestScheduler whose `runAsync` covers code that awaits Promises between
 * timers, as the Producer and Consumer do (every call to an agent is a
 * Promise). TestScheduler.run flushes virtual time synchronously, so a
 * Promise settled in frame 5 would only be seen after the last frame;
 * runAsync lets every pending Promise job run before each next frame, so a
 * pipeline sees its answers at the virtual time they were given.
 *
 * ```ts
 * const testScheduler = new PipelineTestScheduler((actual, expected) => expect(actual).to.deep.equal(expected));
 * await testScheduler.runAsync(async ({ cold, expectObservable }) => { … });
 * ```
 *
 * Helpers are those of TestScheduler.run (cold, hot, expectObservable, time,
 * …, one frame = 1 ms); inside the callback rxjs's own timers (delay,
 * interval, asyncScheduler) run in virtual time too. A test must end what it
 * starts (close its producers and consumers): runAsync runs until no timer
 * is left, and fails when one is still pending at `maxFrames`.
 */
import { TestScheduler, type RunHelpers } from 'rxjs/testing';
import { dateTimestampProvider } from 'rxjs/internal/scheduler/dateTimestampProvider';
import { immediateProvider } from 'rxjs/internal/scheduler/immediateProvider';
import { intervalProvider } from 'rxjs/internal/scheduler/intervalProvider';
import { timeoutProvider } from 'rxjs/internal/scheduler/timeoutProvider';
import { performanceTimestampProvider } from 'rxjs/internal/scheduler/performanceTimestampProvider';
import { animationFrameProvider } from 'rxjs/internal/scheduler/animationFrameProvider';

/** Virtual time a runAsync may reach before it gives up, ms. Default 1 hour. */
const DEFAULT_MAX_FRAMES = 3_600_000;

/** What TestScheduler keeps private but runAsync needs, as it stands in rxjs 7. */
type Internals = {
  runMode: boolean;
  flushTests: { ready: boolean; actual: unknown; expected: unknown }[];
  hotObservables: { setup(): void }[];
  createAnimator(): { animate: RunHelpers['animate']; delegate: unknown };
  createDelegates(): { immediate: unknown; interval: unknown; timeout: unknown };
};

type Action = { delay: number; state: unknown; execute(state: unknown, delay: number): unknown; unsubscribe(): void };

/** Lets every queued Promise job (and those they queue) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class PipelineTestScheduler extends TestScheduler {
  /**
   * Runs `callback` in run mode, then advances virtual time frame by frame,
   * letting Promise jobs run before each frame, until no action is left;
   * then checks every expectObservable/expectSubscriptions.
   *
   * @param maxFrames virtual time (ms) after which a still-pending timer fails the run
   */
  async runAsync<T>(callback: (helpers: RunHelpers) => T | Promise<T>, maxFrames = DEFAULT_MAX_FRAMES): Promise<T> {
    const self = this as unknown as Internals;
    const previousFactor = TestScheduler.frameTimeFactor;
    const previousMaxFrames = this.maxFrames;
    TestScheduler.frameTimeFactor = 1;
    this.maxFrames = Number.POSITIVE_INFINITY;
    self.runMode = true;
    const animator = self.createAnimator();
    const delegates = self.createDelegates();
    animationFrameProvider.delegate = animator.delegate as typeof animationFrameProvider.delegate;
    dateTimestampProvider.delegate = this;
    immediateProvider.delegate = delegates.immediate as typeof immediateProvider.delegate;
    intervalProvider.delegate = delegates.interval as typeof intervalProvider.delegate;
    timeoutProvider.delegate = delegates.timeout as typeof timeoutProvider.delegate;
    performanceTimestampProvider.delegate = this;
    const helpers: RunHelpers = {
      cold: this.createColdObservable.bind(this),
      hot: this.createHotObservable.bind(this),
      flush: this.flush.bind(this),
      time: this.createTime.bind(this),
      expectObservable: this.expectObservable.bind(this),
      expectSubscriptions: this.expectSubscriptions.bind(this),
      animate: animator.animate,
    };
    try {
      const running = Promise.resolve(callback(helpers));
      await this.flushAsync(maxFrames);
      const result = await running;
      await this.flushAsync(maxFrames);
      return result;
    } finally {
      TestScheduler.frameTimeFactor = previousFactor;
      this.maxFrames = previousMaxFrames;
      self.runMode = false;
      animationFrameProvider.delegate = undefined;
      dateTimestampProvider.delegate = undefined;
      immediateProvider.delegate = undefined;
      intervalProvider.delegate = undefined;
      timeoutProvider.delegate = undefined;
      performanceTimestampProvider.delegate = undefined;
    }
  }

  /** The virtual-time loop of VirtualTimeScheduler.flush, letting Promise jobs run before every action. */
  private async flushAsync(maxFrames: number): Promise<void> {
    const self = this as unknown as Internals;
    const actions = this.actions as unknown as Action[];
    for (;;) {
      while (self.hotObservables.length > 0) self.hotObservables.shift()!.setup();
      await settle();
      const action = actions[0];
      if (action === undefined) break;
      if (action.delay > maxFrames) {
        for (const pending of actions.splice(0)) pending.unsubscribe();
        throw new Error(
          `timers still pending at ${maxFrames} ms of virtual time: close every producer and consumer the test opens`,
        );
      }
      actions.shift();
      this.frame = action.delay;
      const error = action.execute(action.state, action.delay);
      if (error) {
        for (const pending of actions.splice(0)) pending.unsubscribe();
        throw error;
      }
    }
    self.flushTests = self.flushTests.filter((test) => {
      if (!test.ready) return true;
      this.assertDeepEqual(test.actual, test.expected);
      return false;
    });
  }
}
