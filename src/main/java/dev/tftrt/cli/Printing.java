package dev.tftrt.cli;

import dev.tftrt.model.TensorSpec;
import dev.tftrt.runtime.Comparison;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** The CLI's tables. */
final class Printing {
  private Printing() {}

  static void specs(PrintWriter out, String title, List<TensorSpec> specs) {
    out.println("  " + title + ":");
    for (TensorSpec s : specs) out.println("    " + s.describe());
  }

  /** ONNX graph inputs or outputs: name, element type and dims (named dims are dynamic). */
  static void onnxValues(PrintWriter out, String title, List<dev.tftrt.convert.onnx.ValueInfoProto> values) {
    out.println("  " + title + ":");
    for (var v : values) {
      var t = v.getType().getTensorType();
      List<String> dims = new java.util.ArrayList<>();
      for (var d : t.getShape().getDimList()) dims.add(d.hasDimValue() ? Long.toString(d.getDimValue()) : "?");
      out.println("    " + v.getName() + " " + dev.tftrt.convert.onnx.TensorProto.DataType.forNumber(t.getElemType())
          .name().toLowerCase(java.util.Locale.ROOT) + dims);
    }
  }

  static void summary(PrintWriter out, Map<String, HostTensor> outputs) {
    for (Map.Entry<String, HostTensor> e : outputs.entrySet()) {
      HostTensor t = e.getValue();
      String head = String.format("  %s: %s %s", e.getKey(), DTypes.name(t.dtype()), Arrays.toString(t.shape()));
      if (t.dtype() == org.tensorflow.proto.DataType.DT_STRING) {
        out.println(head + (t.numElements() > 0 ? "  first: \"" + new String(t.string(0),
            java.nio.charset.StandardCharsets.UTF_8) + "\"" : ""));
        continue;
      }
      long n = t.numElements();
      if (n == 0) {
        out.println(head + "  (empty)");
        continue;
      }
      double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0;
      for (long i = 0; i < n; i++) {
        double v = t.getDouble(i);
        min = Math.min(min, v);
        max = Math.max(max, v);
        sum += v;
      }
      out.println(head + String.format("  min %.6g  max %.6g  mean %.6g", min, max, sum / n));
    }
  }

  static void diffs(PrintWriter out, List<Comparison.Diff> diffs) {
    out.printf("  %-28s %12s %12s %10s  %s%n", "output", "max abs err", "max rel err", "cosine", "result");
    for (Comparison.Diff d : diffs) {
      String result = d.identical() ? "identical" : d.withinTolerance() ? "ok" : "FAIL (" + d.problem() + ")";
      if (d.agreeingNonFinite() > 0) result += "; " + d.agreeingNonFinite() + " NaN/Inf agree";
      out.printf("  %-28s %12.4g %12.4g %10.6f  %s%n", d.name(), d.maxAbs(), d.maxRel(), d.cosine(), result);
    }
  }
}
