package dev.tftrt.precision;

import dev.tftrt.runtime.Comparison;
import dev.tftrt.runtime.Matching;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.DataType;

/**
 * What a precision costs, output by output, against an FP32 reference on the same samples: max
 * absolute and relative error, cosine, and where an output is a decision, how often it agrees:
 * the argmax over the last axis of a float output with at least 2 classes (classifier scores,
 * per-pixel segmentation logits), or the values themselves of an integer output (labels,
 * per-pixel predictions). Generic over precision: the same figures for FP16 and INT8.
 */
public final class Accuracy {
  private Accuracy() {}

  /** One output's figures; {@code agreement} is NaN where the output is no decision. */
  public record Output(String name, double maxAbs, double maxRel, double cosine, double agreement,
      String agreementOf, long samples) {
    public Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("output", name);
      m.put("maxAbs", finite(maxAbs));
      m.put("maxRel", finite(maxRel));
      m.put("cosine", finite(cosine));
      if (!Double.isNaN(agreement)) {
        m.put("agreement", agreement);
        m.put("agreementOf", agreementOf);
      }
      m.put("samples", samples);
      return m;
    }

    private static Object finite(double d) {
      return Double.isFinite(d) ? (Object) d : String.valueOf(d);
    }
  }

  /** Runs both on every sample (keyed by the reference's input names) and accumulates figures. */
  public static List<Output> measure(ModelRunner reference, ModelRunner other, List<Map<String, HostTensor>> samples) {
    Matching m = Matching.of(reference, other);
    Map<String, double[]> acc = new LinkedHashMap<>(); // maxAbs, maxRel, dot, na, nb, agree, total
    for (Map<String, HostTensor> sample : samples) {
      Map<String, HostTensor> ref = reference.run(sample);
      Map<String, HostTensor> feeds = new LinkedHashMap<>();
      for (Map.Entry<String, HostTensor> e : sample.entrySet()) {
        String k = m.inputs().get(e.getKey());
        if (k != null) feeds.put(k, e.getValue());
      }
      Map<String, HostTensor> got = other.run(feeds);
      for (TensorSpec o : reference.outputs()) {
        HostTensor b = ref.get(o.key());
        HostTensor a = got.get(m.outputs().get(o.key()));
        double[] s = acc.computeIfAbsent(o.key(), k -> new double[7]);
        Comparison.Diff d = Comparison.diff(o.key(), a, b, 0, 0);
        s[0] = Math.max(s[0], d.maxAbs());
        s[1] = Math.max(s[1], d.maxRel());
        if (a == null || b == null || a.dtype() == DataType.DT_STRING || a.numElements() != b.numElements()) {
          s[2] = Double.NaN;
          continue;
        }
        for (long i = 0, n = a.numElements(); i < n; i++) {
          double x = a.getDouble(i), y = b.getDouble(i);
          if (!Double.isFinite(x) || !Double.isFinite(y)) continue;
          s[2] += x * y;
          s[3] += x * x;
          s[4] += y * y;
        }
        long[] ag = agreement(a, b);
        s[5] += ag[0];
        s[6] += ag[1];
      }
    }
    List<Output> r = new ArrayList<>();
    for (Map.Entry<String, double[]> e : acc.entrySet()) {
      double[] s = e.getValue();
      double cos = Double.isNaN(s[2]) ? Double.NaN
          : s[3] == 0 && s[4] == 0 ? 1 : (s[3] == 0 || s[4] == 0 ? 0 : s[2] / Math.sqrt(s[3] * s[4]));
      String of = null;
      for (TensorSpec o : reference.outputs()) if (o.key().equals(e.getKey())) of = kindOf(o);
      r.add(new Output(e.getKey(), s[0], s[1], cos, s[6] == 0 ? Double.NaN : s[5] / s[6], of, samples.size()));
    }
    return r;
  }

  private static String kindOf(TensorSpec o) {
    return isInteger(o.dtype()) ? "values" : "argmax over the last axis";
  }

  private static boolean isInteger(DataType t) {
    return DTypes.isSupported(t) && t != DataType.DT_FLOAT && t != DataType.DT_DOUBLE && t != DataType.DT_HALF
        && t != DataType.DT_BFLOAT16 && t != DataType.DT_STRING && t != DataType.DT_BOOL;
  }

  /** {agreeing, total} decisions; {0, 0} when the output is no decision. */
  static long[] agreement(HostTensor a, HostTensor b) {
    long n = a.numElements();
    if (isInteger(a.dtype())) {
      long same = 0;
      for (long i = 0; i < n; i++) if (a.getDouble(i) == b.getDouble(i)) same++;
      return new long[] {same, n};
    }
    if (a.rank() < 2 || a.shape()[a.rank() - 1] < 2 || n == 0) return new long[] {0, 0};
    long c = a.shape()[a.rank() - 1];
    long rows = n / c, same = 0;
    for (long r = 0; r < rows; r++) {
      if (argmax(a, r * c, c) == argmax(b, r * c, c)) same++;
    }
    return new long[] {same, rows};
  }

  private static long argmax(HostTensor t, long from, long c) {
    long best = 0;
    double v = Double.NEGATIVE_INFINITY;
    for (long k = 0; k < c; k++) {
      double x = t.getDouble(from + k);
      if (x > v) {
        v = x;
        best = k;
      }
    }
    return best;
  }

  /** The lowest cosine over the outputs (NaN ignored); 1 when there are none. */
  public static double minCosine(List<Output> outs) {
    double m = 1;
    for (Output o : outs) if (!Double.isNaN(o.cosine())) m = Math.min(m, o.cosine());
    return m;
  }
}
