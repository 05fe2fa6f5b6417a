package dev.parley;

/**
 * Receives a runtime's events on the binding's event thread ("parley-events"), one at a
 * time, in order. Never called on an engine thread. Do not block it for long: events wait
 * behind a slow listener (audio does not). Exceptions thrown here go to the thread's
 * uncaught-exception handler and delivery continues.
 */
@FunctionalInterface
public interface EventListener {
  void onEvent(Event event);
}
