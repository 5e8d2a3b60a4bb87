package dev.tftrt.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * What one logger records while a test runs: attached on creation, with the logger opened to
 * {@code level} (an in-process CLI run earlier in the JVM may have closed it), and detached,
 * the level restored, on close.
 */
public final class LogCapture extends Handler implements AutoCloseable {
  private final Logger logger;
  private final Level before;
  private final List<LogRecord> records = Collections.synchronizedList(new ArrayList<>());

  private LogCapture(Logger logger, Level level) {
    this.logger = logger;
    this.before = logger.getLevel();
    if (level != null) logger.setLevel(level);
    logger.addHandler(this);
  }

  /** Captures the logger named after {@code owner}; {@code level} null leaves its level alone. */
  public static LogCapture of(Class<?> owner, Level level) {
    return new LogCapture(Logger.getLogger(owner.getName()), level);
  }

  /** The records so far, oldest first. */
  public List<LogRecord> records() {
    synchronized (records) {
      return List.copyOf(records);
    }
  }

  /** The records at {@code level} or above, oldest first. */
  public List<LogRecord> atLeast(Level level) {
    return records().stream().filter(r -> r.getLevel().intValue() >= level.intValue()).toList();
  }

  /** The records below {@code level}, oldest first. */
  public List<LogRecord> below(Level level) {
    return records().stream().filter(r -> r.getLevel().intValue() < level.intValue()).toList();
  }

  public void clear() {
    records.clear();
  }

  @Override
  public void publish(LogRecord r) {
    records.add(r);
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    logger.removeHandler(this);
    logger.setLevel(before);
  }
}
