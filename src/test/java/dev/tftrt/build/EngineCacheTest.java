package dev.tftrt.build;

import dev.tftrt.util.Sha256;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.TensorShapeProto;
import dev.tftrt.convert.onnx.TypeProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cache keys, the engine cache on disk, and the provider's cache-or-build logic, with a fake
 * builder standing in for TensorRT: what happens to a plan before TensorRT sees it is decided
 * here, so it is tested without a GPU.
 */
class EngineCacheTest {
  static final GpuInfo H200 = new GpuInfo(null, "NVIDIA H200", 9, 0, 150L << 30, 13030, "11.2.1");
  static final GpuInfo A10 = new GpuInfo(null, "NVIDIA A10", 8, 6, 24L << 30, 13030, "11.2.1");

  @TempDir Path tmp;

  /** An ONNX model with one input x:0 of shape [?, 4]: the batch is unknown. */
  static byte[] onnx(String output) {
    TensorShapeProto shape = TensorShapeProto.newBuilder()
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(4)).build();
    ValueInfoProto in = ValueInfoProto.newBuilder().setName("x:0").setType(TypeProto.newBuilder()
        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    return ModelProto.newBuilder().setIrVersion(8).setGraph(GraphProto.newBuilder().setName("g").addInput(in)
        .addOutput(ValueInfoProto.newBuilder().setName(output))).build().toByteArray();
  }

  static BuildOptions batch(int max) {
    return BuildOptions.builder().shapeRanges(ShapeRanges.parse(List.of("x=1,4:1,4:" + max + ",4"))).build();
  }

  static EngineKey key(GpuInfo gpu, BuildOptions o) {
    return EngineKey.of(onnx("y:0"), "fp32", gpu, List.of(ShapeRange.parse("x:0=1,4:1,4:8,4")), o);
  }

  @Test
  void theKeyChangesWithEveryPartThatMakesAPlanValid() {
    BuildOptions o = BuildOptions.defaults();
    EngineKey k = key(H200, o);
    assertEquals(k, key(H200, o));
    assertEquals(k.id(), key(H200, o).id());
    assertEquals(32, k.id().length());
    List<EngineKey> others = List.of(
        EngineKey.of(onnx("z:0"), "fp32", H200, List.of(ShapeRange.parse("x:0=1,4:1,4:8,4")), o),
        EngineKey.of(onnx("y:0"), "fp16", H200, List.of(ShapeRange.parse("x:0=1,4:1,4:8,4")), o),
        key(new GpuInfo(null, "NVIDIA H200", 9, 0, 150L << 30, 13030, "11.3.0"), o),
        key(A10, o),
        EngineKey.of(onnx("y:0"), "fp32", H200, List.of(ShapeRange.parse("x:0=1,4:2,4:8,4")), o),
        key(H200, o.toBuilder().workspaceBytes(1L << 30).build()),
        key(H200, o.toBuilder().optimizationLevel(5).build()),
        key(H200, o.toBuilder().versionCompatible(true).build()));
    for (EngineKey other : others) {
      assertNotEquals(k.id(), other.id(), other.canonical());
      assertEquals(1, k.distance(other) >= 1 ? 1 : 0);
    }
    // A compatibility level replaces the exact device: two GPUs of one SM version share a plan.
    BuildOptions sameCc = o.toBuilder().hardwareCompat(HardwareCompat.SAME_COMPUTE_CAPABILITY).build();
    assertEquals(key(H200, sameCc), key(new GpuInfo(null, "NVIDIA H100", 9, 0, 80L << 30, 13030, "11.2.1"), sameCc));
    BuildOptions ampere = o.toBuilder().hardwareCompat(HardwareCompat.AMPERE_PLUS).build();
    assertEquals(key(H200, ampere), key(A10, ampere));
    assertNotEquals(key(H200, o), key(new GpuInfo(null, "NVIDIA H100", 9, 0, 80L << 30, 13030, "11.2.1"), o));
  }

  @Test
  void aStoredPlanIsFoundOnlyUnderItsExactKey() throws Exception {
    EngineCache c = new EngineCache(tmp.resolve("engines"));
    EngineKey k = key(H200, BuildOptions.defaults());
    assertInstanceOf(EngineCache.Miss.class, c.lookup(k));
    byte[] plan = "plan bytes".getBytes(StandardCharsets.UTF_8);
    EngineCache.Stored s = c.store(k, "TftrtEngine_0", plan, "{\"Layers\":[]}");
    assertEquals(k.id(), s.id());
    assertTrue(Files.isRegularFile(c.planFile(k)));
    assertTrue(Files.isRegularFile(c.layersFile(k)));
    assertTrue(Files.readString(c.sidecarFile(k)).contains("\"sha256\" : \"" + Sha256.hex(plan) + "\""));
    EngineCache.Hit hit = assertInstanceOf(EngineCache.Hit.class, c.lookup(k));
    assertArrayEquals(plan, hit.plan());
    assertTrue(EngineCache.isCacheFolder(c.root()));

    EngineKey newer = key(new GpuInfo(null, "NVIDIA H200", 9, 0, 150L << 30, 13030, "11.3.0"), BuildOptions.defaults());
    EngineCache.Miss miss = assertInstanceOf(EngineCache.Miss.class, c.lookup(newer));
    assertEquals("the engine cached in " + c.root() + " for this segment differs in the TensorRT version "
        + "(cached: 11.2.1; needed: 11.3.0)", miss.why());
    EngineKey other = EngineKey.of(onnx("q:0"), "fp32", H200, List.of(), BuildOptions.defaults());
    assertEquals("no engine is cached in " + c.root() + " for this segment (ONNX SHA-256 " + other.segmentSha256() + ")",
        assertInstanceOf(EngineCache.Miss.class, c.lookup(other)).why());
  }

  @Test
  void aCorruptPlanIsRemovedNeverReturned() throws Exception {
    EngineCache c = new EngineCache(tmp);
    EngineKey k = key(H200, BuildOptions.defaults());
    c.store(k, "TftrtEngine_0", new byte[] {1, 2, 3, 4}, null);
    Files.write(c.planFile(k), new byte[] {1, 2, 3, 5}); // one flipped bit of a real plan
    EngineCache.Corrupt bad = assertInstanceOf(EngineCache.Corrupt.class, c.lookup(k));
    assertTrue(bad.why().startsWith("the plan " + c.planFile(k) + " has SHA-256 "), bad.why());
    assertFalse(Files.exists(c.planFile(k)));
    assertFalse(Files.exists(c.sidecarFile(k)));
    assertInstanceOf(EngineCache.Miss.class, c.lookup(k));

    c.store(k, "TftrtEngine_0", new byte[] {1}, null);
    Files.writeString(c.sidecarFile(k), "{ not json");
    assertInstanceOf(EngineCache.Corrupt.class, c.lookup(k));
    assertFalse(Files.exists(c.planFile(k)));
  }

  /** A builder that counts its builds and makes a plan from the ONNX and profile. */
  static final class FakeBuild implements EngineProvider.Build {
    final List<String> built = new ArrayList<>();

    @Override
    public EngineBuilder.Built build(String name, byte[] onnx, List<ShapeRange> profile, BuildOptions options,
        GpuInfo gpu, java.util.function.Consumer<String> progress) {
      built.add(name + " " + EngineKey.profileText(profile));
      return new EngineBuilder.Built((name + EngineKey.profileText(profile)).getBytes(StandardCharsets.UTF_8), null, 5);
    }
  }

  @Test
  void theProviderBuildsOnceThenHitsAndRebuildsACorruptPlan() throws Exception {
    FakeBuild fake = new FakeBuild();
    EngineCache cache = new EngineCache(tmp.resolve("c"));
    EngineProvider p = new EngineProvider(H200, batch(8), List.of(cache), fake, null);
    EngineProvider.Request r = new EngineProvider.Request("TftrtEngine_0", onnx("y:0"), "fp32", Map.of());
    EngineProvider.Provided first = p.provide(r, true);
    assertTrue(first.built());
    assertEquals(List.of("TftrtEngine_0 x:0=1x4:1x4:8x4"), fake.built);
    EngineProvider.Provided second = p.provide(r, true);
    assertFalse(second.built());
    assertEquals("cache " + cache.root(), second.source());
    assertArrayEquals(first.plan(), second.plan());
    assertEquals(1, fake.built.size(), "a cache hit must not build");

    byte[] damaged = Files.readAllBytes(cache.planFile(first.key()));
    damaged[0] ^= 1;
    Files.write(cache.planFile(first.key()), damaged);
    EngineProvider.Provided third = p.provide(r, true);
    assertTrue(third.built(), "a corrupt plan is rebuilt");
    assertArrayEquals(first.plan(), third.plan());
    assertEquals(2, fake.built.size());
  }

  @Test
  void withoutBuildingAMismatchSaysWhichPartDiffers() {
    FakeBuild fake = new FakeBuild();
    EngineCache cache = new EngineCache(tmp.resolve("c"));
    EngineProvider.Request r = new EngineProvider.Request("TftrtEngine_0", onnx("y:0"), "fp32", Map.of());
    new EngineProvider(H200, batch(8), List.of(cache), fake, null).provide(r, true);
    EngineProvider wider = new EngineProvider(H200, batch(32), List.of(cache), fake, null);
    TftrtException e = assertThrows(TftrtException.class, () -> wider.provide(r, false));
    assertEquals("engine TftrtEngine_0 has no TensorRT engine for NVIDIA H200 (compute capability 9.0, 150.0 GiB): "
        + "the engine cached in " + cache.root() + " for this segment differs in the shape profile "
        + "(cached: x:0=1x4:1x4:8x4; needed: x:0=1x4:1x4:32x4); build it with tftrt build, or allow building at run time.",
        e.getMessage());
    assertEquals(1, fake.built.size());
  }

  @Test
  void aSegmentWithAnUnknownDimensionAndNoRangeIsRefusedBeforeBuilding() {
    FakeBuild fake = new FakeBuild();
    EngineProvider p = new EngineProvider(H200, BuildOptions.defaults(), List.of(new EngineCache(tmp)), fake, null);
    TftrtException e = assertThrows(TftrtException.class, () -> p.provide(
        new EngineProvider.Request("TftrtEngine_1", onnx("y:0"), "fp32", Map.of()), true));
    assertEquals("engine TftrtEngine_1 input 'x:0' has the shape [?, 4], with dimensions only known at run time; "
        + "give --shape-range x=min:opt:max for it.", e.getMessage());
    assertTrue(fake.built.isEmpty());
    // the shape seen in a run makes a fixed profile
    p.provide(new EngineProvider.Request("TftrtEngine_1", onnx("y:0"), "fp32", Map.of("x:0", new long[] {3, 4})), true);
    assertEquals(List.of("TftrtEngine_1 x:0=3x4:3x4:3x4"), fake.built);
  }
}
