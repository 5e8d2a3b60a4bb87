package dev.tftrt.corpus;

import dev.tftrt.model.LoadOptions;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.pipeline.Plan;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Wav;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Every model in ../shared/models, with what a user must say to convert it (shapes the model does
 * not declare, values that make it deterministic), converted and checked against the original.
 * The coverage of each conversion (engines, convolutions and matmuls inside them, work left in
 * TensorFlow) is a table in the README, so a regression in coverage fails the build.
 */
public final class Corpus {
  private Corpus() {}

  /** A model and how to convert it; {@code why} says what stays in TensorFlow. */
  public record Entry(String name, String path, List<String> outputs, Map<String, String> set,
      Map<String, long[]> shapes, Function<ModelRunner, Map<String, HostTensor>> given, int minSegmentSize,
      String why) {
    Entry(String name, String path, Map<String, long[]> shapes,
        Function<ModelRunner, Map<String, HostTensor>> given, int minSegmentSize, String why) {
      this(name, path, List.of(), Map.of(), shapes, given, minSegmentSize, why);
    }
  }

  /**
   * Coverage of one conversion, and its size (heavyTooSmall: convolutions and matmuls left in
 * TensorFlow by the CPU call-cost rule, in a loop or on small fixed shapes): the converted folder's bytes (every file), those of
   * its text files (tftrt.json, report.json, report.md: a few KB whatever the model), and the
   * frozen graph's.
   */
  public record Row(Entry entry, int engines, int heavyInside, int heavyTooSmall, int heavyTotal, int leftInTf,
      double maxAbs, boolean identical, long folderBytes, long textBytes, long frozenBytes) {}

  private static long bytes(Path dir, java.util.function.Predicate<Path> which) {
    try (var files = java.nio.file.Files.walk(dir)) {
      return files.filter(java.nio.file.Files::isRegularFile).filter(which).mapToLong(f -> f.toFile().length()).sum();
    } catch (java.io.IOException ex) {
      throw new java.io.UncheckedIOException(ex);
    }
  }

  private static Function<ModelRunner, Map<String, HostTensor>> wav(long seed) {
    return r -> Map.of("wav_data", HostTensor.ofStrings(new long[0],
        new byte[][] {Wav.randomClip(16000, 1, 16000, seed)}));
  }

  private static Entry of(String name, String path) {
    return new Entry(name, path, Map.of(), null, 3, "");
  }

  private static final String CPU_CALL = "too small to pay for an engine call (on TensorRT they are engines)";
  private static final String KWS_FRONT_END = "the audio front end (DecodeWav, AudioSpectrogram, Mfcc)";

  public static List<Entry> entries() {
    List<Entry> e = new ArrayList<>();
    e.add(of("mlp", "mlp-fc-layers/frozen.pb"));
    e.add(new Entry("regression (checkpoint)", "regression/checkpoint/model.meta", List.of("pred"), Map.of(), Map.of(), null, 1, ""));
    e.add(new Entry("regression (SavedModel)", "regression/saved_model", Map.of(), null, 1, ""));
    e.add(new Entry("regression (frozen)", "regression/graphdef/frozen.pb", Map.of(), null, 1, ""));
    e.add(new Entry("half_plus_two (TF1)", "half_plus_two_tf1", Map.of(), null, 1, ""));
    e.add(new Entry("half_plus_two (TF2)", "half_plus_two_tf2", Map.of(), null, 1,
        "on the CPU backends, its 2 ops on a fixed shape: " + CPU_CALL));
    for (String k : List.of("DS_CNN_S", "CNN_S", "DNN_S")) {
      e.add(new Entry("kws " + k, "kws/" + k + ".pb", Map.of(), wav(7), 3, KWS_FRONT_END));
    }
    e.add(new Entry("kws LSTM_S", "kws/LSTM_S.pb", Map.of(), wav(7), 3,
        KWS_FRONT_END + "; the LSTM's TF1 while loop (Enter, Merge, Switch, NextIteration, Exit, TensorArrayV3) with, on"
        + " the CPU backends, its cell (2 matmuls): as engines it would make 3 calls per time step, each costing more"
        + " than the ops it replaces; and its output layer (1 matmul, softmax, on fixed shapes): " + CPU_CALL));
    e.add(new Entry("kws CRNN_S", "kws/CRNN_S.pb", Map.of(), wav(7), 3,
        KWS_FRONT_END + "; the GRU's TF1 while loop with, on the CPU backends, its cell (4 matmuls), too small to pay"
        + " for engine calls once per time step; and its conv front and output layers (1 conv, 2 matmuls, on fixed"
        + " shapes): " + CPU_CALL));
    e.add(new Entry("deeplab 257", "deeplab-mnv2-portrait/frozen_inference_graph.pb",
        Map.of("ImageTensor", new long[] {1, 257, 257, 3}), null, 3, ""));
    e.add(new Entry("lstm-unrolled", "lstm-unrolled/frozen.pb", List.of(), Map.of("keep_prob", "1.0"), Map.of(),
        null, 3, "dropout's RandomUniform (its mask is all ones at keep_prob 1.0)"));
    e.add(of("mobilenet v1 0.25", "mobilenet-v1-025-128/frozen_graph.pb"));
    e.add(of("mobilenet v1 0.25 (quantized weights)", "mobilenet-v1-025-128/quantized_graph.pb"));
    e.add(new Entry("openpose mnv2", "openpose-mnv2-small/graph_opt.pb",
        Map.of("image", new long[] {1, 368, 432, 3}), null, 3, ""));
    e.add(new Entry("fsrcnn x2", "fsrcnn-x2/FSRCNN_x2.pb",
        Map.of("IteratorGetNext", new long[] {1, 60, 80, 1}), null, 3, ""));
    e.add(new Entry("openmv mobilenet (Keras)", "openmv-mobilenet-keras", Map.of(), null, 3,
        "the Resizing layer's Slice with a computed begin"));
    e.add(of("char-rnn lstm", "charrnn-lstm/frozen_model.pb"));
    e.add(of("ML.NET cifar (TF1)", "mlnet-cifar-tf1"));
    return e;
  }

  /**
   * Converts one entry into {@code out} (verified against the original) and measures it, segmented
   * for the CPU backends whatever this machine has, so the table is the same everywhere.
   */
  public static Row convert(Entry e, Path models, Path out) {
    ConvertJob.Report r = ConvertJob.run(ConvertJob.builder(LoadOptions.of(models.resolve(e.path())).withOutputs(e.outputs()).withBindings(e.set()), out).shapes(e.shapes()).segments(new Segmenter.Options(e.minSegmentSize(), Integer.MAX_VALUE, java.util.Set.of(), java.util.Set.of(), Segmenter.Target.CPU)).seed(3).givenFor(e.given()).build());
    if (r.verification() == null || r.verification().skippedBecause() != null) {
      throw new AssertionError(e.name() + ": not verified: "
          + (r.verification() == null ? "no verification" : r.verification().skippedBecause()));
    }
    if (!r.verification().passed()) throw new AssertionError(e.name() + ": " + r.verification().diffs());
    Plan p = r.plan();
    int[] heavy = p.computeHeavyInEngines();
    double maxAbs = r.verification().diffs().stream().mapToDouble(d -> d.maxAbs()).max().orElse(0);
    java.util.Set<String> text = java.util.Set.of("tftrt.json", "report.json", "report.md");
    int tooSmall = 0;
    for (java.util.Map.Entry<String, String> n : p.segments().rejected().entrySet()) {
      if (Plan.COMPUTE_HEAVY.contains(p.graph().node(n.getKey()).getOp())
          && (n.getValue().startsWith(Segmenter.IN_LOOP_TOO_SMALL) || n.getValue().startsWith(Segmenter.ONCE_TOO_SMALL))) tooSmall++;
    }
    return new Row(e, r.engines().size(), heavy[0], tooSmall, heavy[1], p.nodesLeftInTensorFlow(), maxAbs,
        r.verification().identical(), bytes(out, f -> true), bytes(out, f -> text.contains(f.getFileName().toString())),
        p.frozen().graph().getSerializedSize());
  }

  public static final String BEGIN = "<!-- corpus-table:begin (generated by dev.tftrt.corpus.CorpusTable) -->";
  public static final String END = "<!-- corpus-table:end -->";

  /** The README table: coverage only (error figures vary with kernels; coverage must not). */
  public static String markdown(List<Row> rows) {
    StringBuilder b = new StringBuilder(BEGIN).append('\n');
    b.append("| model | engines | convs and matmuls in engines | nodes left in TensorFlow | what they are |\n");
    b.append("|---|---|---|---|---|\n");
    for (Row r : rows) {
      b.append("| ").append(r.entry().name()).append(" | ").append(r.engines()).append(" | ")
          .append(r.heavyInside()).append(" of ").append(r.heavyTotal()).append(" | ").append(r.leftInTf())
          .append(" | ").append(r.entry().why().isEmpty() ? "" : r.entry().why()).append(" |\n");
    }
    return b.append(END).toString();
  }

  /** The README with its corpus table replaced by {@code table}. */
  public static String replaceIn(String readme, String table) {
    int a = readme.indexOf(BEGIN);
    int z = readme.indexOf(END);
    if (a < 0 || z < a) throw new IllegalStateException("README.md has no corpus-table markers");
    return readme.substring(0, a) + table + readme.substring(z + END.length());
  }
}
