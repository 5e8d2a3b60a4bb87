package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import dev.tftrt.graph.TensorInfo;
import java.util.Optional;
import org.tensorflow.proto.DataType;

/**
 * ResizeBilinear and ResizeNearestNeighbor (NHWC; constant or computed size) as ONNX Resize on NCHW, with
 * the coordinate mapping matching TensorFlow's align_corners / half_pixel_centers flags.
 */
public final class Resize extends BaseConverter {
  public Resize() {
    register(Signature.builder().tensor("images").tensor("size")
        .types("T", DataType.DT_FLOAT, DataType.DT_HALF).build(), "ResizeBilinear", "ResizeNearestNeighbor");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    if (n.inputRank(0) >= 0 && n.inputRank(0) != 4) return reject("its input has rank " + n.inputRank(0) + ", not 4.");
    if (n.isConstant(1) && n.constantLongs(1).length != 2) return reject("size must hold two values.");
    if (!n.isConstant(1) && n.inputInfo(1).hasRank() && n.inputInfo(1).rank() != 1) return reject("size must be a vector of two values.");
    if (n.attrBool("align_corners", false) && n.attrBool("half_pixel_centers", false)) {
      return reject("align_corners and half_pixel_centers cannot both be set.");
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    long[] hw = n.isConstant(1) ? n.constantLongs(1) : null;
    String x = Layout.nchw(out, out.input(n, 0), 4);
    TensorInfo in = n.inputInfo(0);
    String sizes;
    if (hw != null && in.hasRank() && in.dim(0) >= 0 && in.dim(3) >= 0) {
      sizes = out.int64s("sizes", in.dim(0), in.dim(3), hw[0], hw[1]);
    } else {
      String nc = out.node("Slice").in(out.op("Shape", x), out.int64s("starts", 0), out.int64s("ends", 2)).emit();
      String size = hw != null ? out.int64s("hw", hw) : Fill.int64(n, out, 1);
      sizes = out.node("Concat").in(nc, size).attr("axis", 0L).emit();
    }
    boolean align = n.attrBool("align_corners", false);
    boolean half = n.attrBool("half_pixel_centers", false);
    OnnxEmitter.Node r = out.node("Resize").in(x, "", "", sizes);
    if (n.op().equals("ResizeBilinear")) {
      r.attr("mode", "linear").attr("coordinate_transformation_mode",
          align ? "align_corners" : half ? "half_pixel" : "asymmetric");
    } else {
      r.attr("mode", "nearest");
      if (align) r.attr("coordinate_transformation_mode", "align_corners").attr("nearest_mode", "round_prefer_ceil");
      else if (half) r.attr("coordinate_transformation_mode", "tf_half_pixel_for_nn").attr("nearest_mode", "floor");
      else r.attr("coordinate_transformation_mode", "asymmetric").attr("nearest_mode", "floor");
    }
    Layout.nhwc(out, r.emit(), 4, out.output(n, 0));
  }
}
