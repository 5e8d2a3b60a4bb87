package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Optional;

/** Pad, PadV2 (constant value) and MirrorPad in REFLECT mode. */
public final class Pad extends BaseConverter {
  public Pad() {
    register(Signature.builder().tensor("input").weight("paddings").types("T", Signature.NUMBERS).build(), "Pad");
    register(Signature.builder().tensor("input").weight("paddings").tensor("constant_values")
        .types("T", Signature.NUMBERS).build(), "PadV2");
    register(Signature.builder().tensor("input").weight("paddings").types("T", Signature.NUMBERS).build(), "MirrorPad");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    long[] p = n.constantLongs(1);
    if (p.length % 2 != 0) return reject("paddings must have shape [rank, 2].");
    for (long v : p) if (v < 0) return reject("negative paddings (cropping) are not supported.");
    if (n.op().equals("MirrorPad")) {
      String mode = n.attrString("mode", "REFLECT");
      if (!mode.equals("REFLECT")) return reject("MirrorPad mode " + mode + " has no ONNX equivalent; only REFLECT converts.");
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    long[] p = n.constantLongs(1);
    int r = p.length / 2;
    long[] pads = new long[2 * r];
    for (int i = 0; i < r; i++) {
      pads[i] = p[2 * i];
      pads[r + i] = p[2 * i + 1];
    }
    OnnxEmitter.Node pad = out.node("Pad").in(out.input(n, 0), out.int64s(n.name() + "/pads", pads));
    if (n.op().equals("PadV2")) pad.in(out.input(n, 2));
    if (n.op().equals("MirrorPad")) pad.attr("mode", "reflect");
    pad.out(out.output(n, 0)).emit();
  }
}
