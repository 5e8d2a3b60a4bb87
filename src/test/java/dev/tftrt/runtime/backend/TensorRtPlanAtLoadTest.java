package dev.tftrt.runtime.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.build.BuildOptions;
import dev.tftrt.build.EngineBuilder;
import dev.tftrt.build.EngineCache;
import dev.tftrt.build.EngineProvider;
import dev.tftrt.build.GpuInfo;
import dev.tftrt.build.ShapeRanges;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.TensorShapeProto;
import dev.tftrt.convert.onnx.TypeProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import dev.tftrt.runtime.engine.EngineNode;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;

/**
 * What the tensorrt backend loads when a model loads, decided before any CUDA call: a cached
 * plan, a plan built now, none yet (built on the first call), or, with building at run time
 * off, one sentence. The builder is a fake; the GPU a description.
 */
class TensorRtPlanAtLoadTest {
  static final GpuInfo H200 = new GpuInfo(null, "NVIDIA H200", 9, 0, 150L << 30, 13030, "11.2.1");
  static final BuildOptions RANGE = BuildOptions.builder().shapeRanges(ShapeRanges.parse(List.of("x=1,4:4,4:8,4"))).build();

  @TempDir Path tmp;
  final AtomicInteger builds = new AtomicInteger();

  /** One input x:0 of shape [?, 4]. */
  static EngineNode node() {
    TensorShapeProto shape = TensorShapeProto.newBuilder()
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(4)).build();
    ValueInfoProto in = ValueInfoProto.newBuilder().setName("x:0").setType(TypeProto.newBuilder()
        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    byte[] onnx = ModelProto.newBuilder().setIrVersion(8).setGraph(GraphProto.newBuilder().setName("g").addInput(in)
        .addOutput(ValueInfoProto.newBuilder().setName("y:0"))).build().toByteArray();
    return EngineNode.builder("TftrtEngine_0").input("x:0", DataType.DT_FLOAT).output(DataType.DT_FLOAT, -1, 4)
        .onnx(onnx).precision("fp32").build();
  }

  EngineProvider provider(BuildOptions o) {
    return new EngineProvider(H200, o, List.of(new EngineCache(tmp.resolve("cache"))), null,
        (name, onnx, profile, options, gpu, progress) -> {
          builds.incrementAndGet();
          return new EngineBuilder.Built(new byte[] {7, 7, 7}, null, 1);
        }, null);
  }

  @Test
  void withBuildingOffAMissingPlanIsOneSentenceNamingTheEngine() {
    TftrtException e = assertThrows(TftrtException.class, () -> TensorRtBackend.planAtLoad(node(), provider(RANGE), false));
    String m = e.getMessage();
    assertTrue(m.startsWith("engine TftrtEngine_0 has no TensorRT engine for NVIDIA H200 (compute capability 9.0"), m);
    assertTrue(m.contains("no engine is cached in " + tmp.resolve("cache")), m);
    assertTrue(m.endsWith("; build it with tftrt build, or allow building at run time."), m);
    assertFalse(m.contains("\n"), m);
    assertEquals(0, builds.get());
  }

  @Test
  void withBuildingOnAKnownProfileIsBuiltNowAndCachedForTheNextLoad() {
    assertArrayEquals(new byte[] {7, 7, 7}, TensorRtBackend.planAtLoad(node(), provider(RANGE), true));
    assertEquals(1, builds.get());
    assertArrayEquals(new byte[] {7, 7, 7}, TensorRtBackend.planAtLoad(node(), provider(RANGE), false),
        "the second load finds the plan, even with building off");
    assertEquals(1, builds.get());
  }

  @Test
  void withBuildingOnAProfileOnlyARunCanTellIsLeftToTheFirstCall() {
    assertNull(TensorRtBackend.planAtLoad(node(), provider(BuildOptions.defaults()), true));
    assertEquals(0, builds.get());
  }

  @Test
  void aNodeWithoutOnnxIsRefusedInOneSentence() {
    EngineNode bare = EngineNode.builder("TftrtEngine_3").input("x:0", DataType.DT_FLOAT).output(DataType.DT_FLOAT, 4).build();
    TftrtException e = assertThrows(TftrtException.class, () -> TensorRtBackend.planAtLoad(bare, provider(RANGE), true));
    assertEquals("engine node 'TftrtEngine_3' carries no ONNX model, so no TensorRT engine can be built for it.", e.getMessage());
  }

  @Test
  void theLoadOptionOverridesTheProcessSettingOnlyWhenGiven() {
    TensorRtSettings on = new TensorRtSettings(tmp, BuildOptions.defaults(), false);
    TensorRtSettings off = new TensorRtSettings(tmp, BuildOptions.builder().allowBuildAtRuntime(false).build(), false);
    assertTrue(on.allowBuild(null));
    assertFalse(on.allowBuild(false));
    assertFalse(off.allowBuild(null));
    assertTrue(off.allowBuild(true));
  }
}
