"""Private: one native call made on a worker thread while the calling thread waits, for the
waiter and the fleet calls.

The worker holds the client (``Client._call``) and makes the C call; the call's callback hands
each item (a poll's tasks, a page) to the calling thread with :meth:`Worker.offer` and waits for
its answer (True to go on, False to stop). The calling thread reads the items with
:meth:`Worker.next` (or :meth:`Worker.take`), answers each with :meth:`Worker.answer`, and ends with
:meth:`Worker.finish`, which answers False to whatever still comes, waits until the C call has
returned and the worker has ended, and hands back the call's outcome. The calling thread waits in
short steps, so that signal handlers run meanwhile: whatever they raise (KeyboardInterrupt,
SystemExit...) reaches the caller, who stops the call (:meth:`Worker.stop`) and lets ``finish``
wait for it; the objects the C call uses are freed only after that.

A signal handler may raise in the calling thread between almost any two steps, so the hand-off
never depends on a step that such an exception can cut in half:

- The worker appends its events to a list, which the calling thread reads by position: an event
  is never taken out of one place to be stored in another, and it stays where it is until
  ``answer`` moves past it. An exception raised while the caller waits, reads or handles an item
  leaves it for ``finish`` to answer; one raised between ``answer`` and its move past the item
  answers it a second time, with False, which (answers being read in order) stops the next one:
  the call is being stopped anyway.
- Wake-ups and answers go through ``queue.SimpleQueue``, whose ``put`` and ``get`` are each one
  call into C. The calling thread never takes a lock the worker needs: ``queue.Queue``,
  ``threading.Event`` and ``threading.Condition`` are Python code around a lock, which an
  exception raised at the wrong moment leaves held, or released under its owner.
- The worker makes the C call only once the calling thread has opened its gate, after
  ``Thread.start`` returned: a start that an exception interrupts leaves the gate closed, and a
  worker that starts all the same ends without touching the call's objects.
"""

import queue
import threading

#: What :meth:`Worker.next` returns once the C call has returned (no more items will come).
END = object()

#: The calling thread's wait between checks for signal handlers (seconds): a thread blocked
#: without a timeout only sees the signals delivered to it.
_STEP = 0.2


class _Ended:
    """The worker's last event: the call's outcome."""

    __slots__ = ("outcome",)

    def __init__(self, outcome):
        self.outcome = outcome


def _interrupt(e):
    """What interrupted Thread.start: ``e``, unless ``e`` is an error that came while Python
    handled an exception such as KeyboardInterrupt. Thread.start waits for the new thread with a
    threading.Event, which is not safe against an exception raised by a signal handler: it may
    then fail to release its lock again (RuntimeError "release unlocked lock"), and that error
    would hide the Ctrl-C."""
    seen = set()
    cause = e
    while isinstance(cause, Exception) and cause.__context__ is not None and id(cause) not in seen:
        seen.add(id(cause))
        cause = cause.__context__
    return e if isinstance(cause, Exception) else cause


def ran(outcome, error):
    """The status of a call that ran, from the outcome :meth:`Worker.finish` returned with
    ``error``. A call that did not run (interrupted first, or the client closed) raises ``error``,
    else the exception that kept it from running."""
    if outcome is None or isinstance(outcome, BaseException):
        raise error or outcome
    return outcome


class Worker:
    """One C call on a worker thread named ``name``; ``cancel`` is its storetasks_cancel."""

    def __init__(self, lib, cancel, name):
        self._lib = lib
        self._cancel = cancel
        self._name = name
        self._events = []  # the items, then an _Ended; appended by the worker only
        self._read = 0  # how many events the calling thread has answered
        self._wake = queue.SimpleQueue()  # a token per event appended
        self._answers = queue.SimpleQueue()  # True to go on, False to stop
        self._gate = queue.SimpleQueue()  # True: make the call; False: end without it
        self._thread = None  # set once started: from then on finish() waits for the worker
        self._draining = False  # finish() began: no item will be read any more
        #: Whether close() cancelled the call while it ran.
        self.closed = False

    # -- the worker's side --------------------------------------------------------------------

    def offer(self, item):
        """Run by the call's callback on the worker thread: hands ``item`` to the calling thread
        (an exception there is raised by it) and returns its answer. Never raises."""
        try:
            self._post(item)
            return bool(self._answers.get())
        except BaseException:  # noqa: BLE001 - nothing may cross the C frames
            return False

    def going(self):
        """Run on the worker thread: whether the caller still reads items (False once it stops,
        or close() was called): the answer to give for an item it is not to see."""
        return not (self._draining or self.closed)

    def on_close(self):
        """Run by close() (under the client's lock, while the call is registered): stops the call,
        and answers an item waiting for the caller, which may be the one closing."""
        self.closed = True
        self._lib.storetasks_cancel_trigger(self._cancel)
        self._answers.put(False)

    def _post(self, event):
        self._events.append(event)
        self._wake.put(None)

    def _run(self, client, call):
        outcome = None
        try:
            if self._gate.get():
                with client._call(self.on_close) as handle:
                    outcome = call(handle)
        except BaseException as e:  # noqa: BLE001 - the client was closed before the call
            outcome = e
        self._post(_Ended(outcome))  # the last thing the worker does with the call's objects

    # -- the calling thread's side ------------------------------------------------------------

    def start(self, client, call):
        """Starts the worker, which runs ``call(handle)`` with the client's native handle; its
        return value (or the exception that kept it from running) is the call's outcome."""
        thread = threading.Thread(target=self._run, args=(client, call), name=self._name, daemon=True)
        try:
            thread.start()
        except BaseException as e:
            self._gate.put(False)  # a worker that starts all the same ends without the call
            interrupt = _interrupt(e)
            if interrupt is e:
                raise
            raise interrupt from None
        self._thread = thread
        self._gate.put(True)

    def next(self):
        """The next item the worker offers, or END once the call has returned. The item stays
        the next one until :meth:`answer`."""
        while self._read >= len(self._events):
            try:
                self._wake.get(timeout=_STEP)
            except queue.Empty:
                pass
        event = self._events[self._read]
        return END if isinstance(event, _Ended) else event

    def take(self):
        """:meth:`next`, raising an item that is an exception (the callback's own failure)."""
        item = self.next()
        if isinstance(item, BaseException):
            raise item
        return item

    def answer(self, keep):
        """Answers the item :meth:`next` returned (True: go on) and moves past it."""
        self._answers.put(bool(keep))
        self._read += 1

    def stop(self):
        """Cancels the C call (it then returns CANCELLED, or OK for a fleet stream)."""
        self._lib.storetasks_cancel_trigger(self._cancel)

    def finish(self, error=None):
        """Answers False to every item still offered until the C call returns, and waits for the
        worker to end. Returns (the call's outcome, or None if it never ran; the exception to
        raise once the call is over: the last one that arrived meanwhile, else ``error``, what
        the caller already had to raise, which may be None): each exception arriving meanwhile
        cancels the call again, and nothing returns before the worker is done. See :func:`ran`."""
        late = None
        while True:
            try:
                if late is not None:
                    self.stop()
                return self._finish(), late or error
            except BaseException as e:  # noqa: BLE001 - raised by the caller once the worker is done
                late = e

    def _finish(self):
        """finish() without the exceptions: safe to run again after an interruption."""
        self._draining = True
        if self._thread is None:
            return None
        self._gate.put(False)  # unless the gate was opened: the worker takes its first answer
        while self.next() is not END:
            self.answer(False)
        # The worker is done with the call's objects; it is joined so that no worker outlives
        # its call (an interrupted join may take it for ended a moment early: harmless now).
        while self._thread.is_alive():
            self._thread.join()
        return self._events[-1].outcome
