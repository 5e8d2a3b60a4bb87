package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** bin/tftrt-log-filter, which the launcher runs the JVM's stderr through unless --verbose. */
class LogFilterTest {
  private static String filter(String stderr) throws Exception {
    Process p = new ProcessBuilder(Path.of("bin/tftrt-log-filter").toAbsolutePath().toString())
        .redirectErrorStream(true).start();
    p.getOutputStream().write(stderr.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    return out;
  }

  @Test
  @DisplayName("TensorFlow's multi-line records and ONNX Runtime's coloured lines are dropped; our lines pass")
  void dropsForeignRecords() throws Exception {
    String in = "2026-12-01 20:56:57.505087: I tensorflow/core/util/port.cc:153] oneDNN custom operations are on.\n"
        + "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        + "I0000 00:00:1796158619.180192   14670 mlir_graph_optimization_pass.cc:401] MLIR V1 optimization pass is not enabled\n"
        + "2026-12-01 20:57:09.282945: W external/local_xla/xla/tsl/framework/bfc_allocator.cc:497] Allocator (mklcpu) ran out of memory\n"
        + "If the cause is memory fragmentation maybe the environment variable 'TF_GPU_ALLOCATOR=cuda_malloc_async' will improve the situation.\n"
        + "Current allocation summary follows.\n"
        + "W0000 00:00:1.5 14670 op_kernel.cc:1857] OP_REQUIRES failed\n"
        + "\tIn function model_fn\n"
        + "\u001b[1;31m2026-12-01 20:57:10.123456789 [E:onnxruntime:tftrt, inference_session.cc:2106 operator()] Exception during initialization\u001b[m\n"
        + "tftrt: model.pb: node 'c' (Const) holds an int64 value but declares dtype int32.\n"
        + "Usage: tftrt run [-hV] MODEL\n"
        + "  MODEL   the model\n";
    assertEquals("tftrt: model.pb: node 'c' (Const) holds an int64 value but declares dtype int32.\n"
        + "Usage: tftrt run [-hV] MODEL\n"
        + "  MODEL   the model\n", filter(in));
  }

  @Test
  @DisplayName("TensorFlow's fatal line and what follows it are never hidden")
  void keepsTheFatalLine() throws Exception {
    String fatal = "F0000 00:00:1796158620.1 14670 tensor.cc:736] Check failed: dtype() == expected_dtype (9 vs. 3) int32 expected, got int64\n"
        + "*** Check failure stack trace: ***\n"
        + "    @     0x7f5e2c1a  tensorflow::Tensor::CheckType()\n"
        + "I0000 00:00:1.2 14670 later.cc:1] a line after the abort began\n";
    assertEquals(fatal, filter("I0000 00:00:1.1 14670 a.cc:1] before\n" + fatal));
    String dated = "2026-12-01 20:57:09.282945: F tensorflow/core/framework/tensor.cc:736] Check failed: x\n";
    assertEquals(dated, filter(dated));
  }
}
