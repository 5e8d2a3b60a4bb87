package dev.tftrt.build;

import java.io.PrintStream;
import java.util.function.Consumer;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The console progress of one engine build: a bar over the {@link BuildPhases} (with the elapsed
 * time the library shows), advanced by TensorRT's log messages. Phases only move forward: a
 * late message of an earlier phase does not move the bar back.
 */
public final class BuildProgress implements AutoCloseable {
  private final ProgressBar bar;
  private int phase = -1;
  private long tactics;

  private BuildProgress(String task, ProgressBarBuilder b) {
    this.bar = b.setTaskName(task).setInitialMax(BuildPhases.PHASES.size()).setStyle(ProgressBarStyle.ASCII)
        .setUpdateIntervalMillis(500).continuousUpdate().hideEta().build();
  }

  /** A bar on {@code out} (the console's stderr, normally). */
  public static BuildProgress console(String task, PrintStream out) {
    return new BuildProgress(task, new ProgressBarBuilder().setConsumer(new ConsoleProgressBarConsumer(out)));
  }

  /** A bar whose rendered lines go to {@code lines} (tests; non-console outputs). */
  public static BuildProgress to(String task, Consumer<String> lines) {
    return new BuildProgress(task, new ProgressBarBuilder().setConsumer(new DelegatingProgressBarConsumer(lines)));
  }

  /** Feeds one TensorRT log message. Never throws (it runs inside the native logger callback). */
  public synchronized void message(String msg) {
    try {
      int i = BuildPhases.index(msg);
      if (i > phase) enter(i);
      if (phase == 3 && BuildPhases.isTacticTimed(msg)) {
        tactics++;
        bar.setExtraMessage(BuildPhases.PHASES.get(phase) + " (" + tactics + ")");
      }
    } catch (RuntimeException e) {
      // a progress display must never fail a build
    }
  }

  /** Moves to phase {@code i} of {@link BuildPhases#PHASES}. */
  public synchronized void enter(int i) {
    if (i <= phase || i >= BuildPhases.PHASES.size()) return;
    phase = i;
    bar.stepTo(i);
    bar.setExtraMessage(BuildPhases.PHASES.get(i));
  }

  /** The current phase's name ("" before the first). */
  public synchronized String phase() {
    return phase < 0 ? "" : BuildPhases.PHASES.get(phase);
  }

  /** Completes the bar (the build finished). */
  public synchronized void done() {
    bar.stepTo(BuildPhases.PHASES.size());
    bar.setExtraMessage("done");
  }

  @Override
  public synchronized void close() {
    bar.close();
  }
}
