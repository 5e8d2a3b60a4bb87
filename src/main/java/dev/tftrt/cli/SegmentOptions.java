package dev.tftrt.cli;

import dev.tftrt.segment.Segmenter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import picocli.CommandLine.Option;

/** How the graph is cut into engines. */
final class SegmentOptions {
  @Option(names = "--min-segment-size", defaultValue = "3",
      description = "Smallest engine, in ops that do work (default: ${DEFAULT-VALUE}).")
  int minSegmentSize;

  @Option(names = "--max-engines", defaultValue = "2147483647", description = "Keep at most this many engines, the largest.")
  int maxEngines;

  @Option(names = "--exclude-ops", split = ",", paramLabel = "OP", description = "Leave these op types in TensorFlow.")
  List<String> excludeOps = new ArrayList<>();

  @Option(names = "--exclude-nodes", split = ",", paramLabel = "NODE", description = "Leave these nodes in TensorFlow.")
  List<String> excludeNodes = new ArrayList<>();

  Segmenter.Options options() {
    if (minSegmentSize < 1) throw new dev.tftrt.TftrtException("--min-segment-size must be at least 1.");
    if (maxEngines < 0) throw new dev.tftrt.TftrtException("--max-engines must not be negative.");
    return new Segmenter.Options(minSegmentSize, maxEngines, new HashSet<>(excludeOps), new HashSet<>(excludeNodes));
  }
}
