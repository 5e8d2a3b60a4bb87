package dev.tftrt.convert.passes.push;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The push rules by ONNX op type; an op not listed stops a transpose. */
public final class PushRules {
  private static final List<PushRule> ALL = List.of(
      ElementwisePush.UNARY_OPS,
      ElementwisePush.BROADCAST_OPS,
      new ScalarOperandPush(),
      new AxisAttributePush(),
      new ReducePush(),
      new SqueezePush(),
      new UnsqueezePush(),
      new SlicePush(),
      new PadPush(),
      new ResizePush());

  private static final Map<String, PushRule> BY_OP = index();

  private PushRules() {}

  private static Map<String, PushRule> index() {
    Map<String, PushRule> m = new HashMap<>();
    for (PushRule r : ALL) {
      for (String op : r.ops()) {
        if (m.put(op, r) != null) throw new IllegalStateException(op + " has two push rules");
      }
    }
    return Map.copyOf(m);
  }

  /** The rule for a default-domain op type, or null. */
  public static PushRule forOp(String opType) {
    return BY_OP.get(opType);
  }
}
