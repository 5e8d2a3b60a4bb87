package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.HostArrays;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import dev.tftrt.tensor.HostTensor;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * MatMul (transpose_a/b) and BatchMatMul/V2/V3 (adj_x/y; real types, so adjoint is transpose).
 * A transposed constant operand is transposed once at conversion time; 8-bit constants behind a
 * Dequantize stay 8-bit (see {@link Weights}).
 */
public final class MatMul extends BaseConverter {
  public MatMul() {
    register(Signature.builder().tensor("a").tensor("b").types("T", Signature.FLOATS).build(),
        "MatMul", "BatchMatMul", "BatchMatMulV2");
    register(Signature.builder().tensor("x").tensor("y").types("Ta", Signature.FLOATS)
        .types("Tb", Signature.FLOATS).types("Tout", Signature.FLOATS).build(), "BatchMatMulV3");
  }

  private static String flag(NodeView n, int i) {
    if (n.op().equals("MatMul")) return i == 0 ? "transpose_a" : "transpose_b";
    return i == 0 ? "adj_x" : "adj_y";
  }

  @Override
  protected Optional<String> check(NodeView n) {
    if (n.op().equals("BatchMatMulV3") && (n.attrType("Ta") != n.attrType("Tb") || n.attrType("Ta") != n.attrType("Tout"))) {
      return reject("mixed operand and result dtypes are not supported.");
    }
    for (int i = 0; i < 2; i++) {
      int r = n.inputRank(i);
      if (n.op().equals("MatMul") && r >= 0 && r != 2) return reject("input " + i + " has rank " + r + ", not 2.");
      if (n.attrBool(flag(n, i), false) && r < 0 && Weights.values(n, i).isEmpty()) {
        return reject(flag(n, i) + " needs input " + i + "'s rank, and it is unknown.");
      }
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String[] ab = new String[2];
    for (int i = 0; i < 2; i++) {
      boolean t = n.attrBool(flag(n, i), false);
      Optional<HostTensor> c = n.constant(i);
      // an untransposed dequantized weight is the Dequantize's own (8-bit) output
      if (t && (c.isPresent() || Dequantize.of(n, i).isPresent())) {
        UnaryOperator<HostTensor> layout = t ? w -> HostArrays.transpose(w, swapLast(w.rank())) : w -> w;
        ab[i] = Weights.emit(out, n, i, n.name() + (t ? "/t" : "/w") + i, layout);
      } else if (!t) {
        ab[i] = out.input(n, i);
      } else {
        int[] p = swapLast(n.inputRank(i));
        long[] perm = new long[p.length];
        for (int k = 0; k < p.length; k++) perm[k] = p[k];
        ab[i] = out.node("Transpose").in(out.input(n, i)).attr("perm", perm).emit();
      }
    }
    out.node("MatMul").in(ab).out(out.output(n, 0)).emit();
  }

  private static int[] swapLast(int rank) {
    int[] p = new int[rank];
    for (int i = 0; i < rank; i++) p[i] = i;
    p[rank - 1] = rank - 2;
    p[rank - 2] = rank - 1;
    return p;
  }
}
