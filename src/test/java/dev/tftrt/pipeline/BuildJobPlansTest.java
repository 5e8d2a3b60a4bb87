package dev.tftrt.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.build.BuildOptions;
import dev.tftrt.build.EngineBuilder;
import dev.tftrt.build.EngineCache;
import dev.tftrt.build.EngineProvider;
import dev.tftrt.build.GpuInfo;
import dev.tftrt.build.ListedPlans;
import dev.tftrt.build.ShapeRanges;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.ConvertedModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.Payloads;
import dev.tftrt.testing.TestModels;
import dev.tftrt.util.FolderSeal;
import dev.tftrt.util.Sha256;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plans that tftrt build writes into a converted folder are listed in its manifest (SHA-256 file
 * names, the engine key as the payload's key, the seal updated) and are what a later build or
 * load finds first. The builder needs a GPU, so a fake stands in for it at the plan-bytes level:
 * everything around it (which plan, where it goes, what the manifest says) runs as on a GPU.
 */
class BuildJobPlansTest {
  static final GpuInfo H200 = new GpuInfo(null, "NVIDIA H200", 9, 0, 150L << 30, 13030, "11.2.1");
  static final GpuInfo A10 = new GpuInfo(null, "NVIDIA A10", 8, 6, 24L << 30, 13030, "11.2.1");
  static final BuildOptions RANGE = BuildOptions.builder()
      .shapeRanges(ShapeRanges.parse(List.of("image=1,16,16,3:8,16,16,3:32,16,16,3"))).build();

  @TempDir static Path shared;
  static Path converted;
  @TempDir Path tmp;
  final AtomicInteger builds = new AtomicInteger();

  @BeforeAll
  static void convertDemo() {
    Path saved = shared.resolve("demo");
    DemoModel.save(saved, 1);
    converted = shared.resolve("converted");
    ConvertJob.run(ConvertJob.builder(LoadOptions.of(saved), converted).verify(false).build());
  }

  /** A provider like BuildJob's for the folder, on a fake GPU, whose builder returns recognisable bytes. */
  EngineProvider provider(Path dir, GpuInfo gpu, BuildOptions o, Path userCache) {
    EngineProvider.Build fake = (name, onnx, profile, options, g, progress) -> {
      builds.incrementAndGet();
      byte[] plan = ("plan of " + name + " for " + g.name() + " #" + builds.get()).getBytes(StandardCharsets.UTF_8);
      return new EngineBuilder.Built(plan, "{\"Layers\":[]}", 5);
    };
    return new EngineProvider(gpu, o, List.of(new EngineCache(userCache), new EngineCache(dir.resolve("engines"))),
        ListedPlans.of(dir), fake, null);
  }

  static List<ConvertedModel.Payload> plans(Path dir, String engine) {
    return Payloads.list(ConvertedModel.readManifest(dir), engine).stream()
        .filter(p -> p.kind().equals(Payloads.TENSORRT_PLAN)).toList();
  }

  static BuildJob.Options options(Path dir, BuildOptions o) {
    return new BuildJob.Options(dir, null, o, false);
  }

  @Test
  void plansBuiltIntoTheFolderAreListedInItsManifestByTheirSha256AndTheFolderStaysSealed() throws Exception {
    Path dir = TestModels.copyTree(converted, tmp.resolve("m"));
    assertTrue(FolderSeal.verify(dir));
    List<BuildJob.Engine> done = BuildJob.run(options(dir, RANGE), provider(dir, H200, RANGE, tmp.resolve("user")), true);
    assertEquals(ConvertedModel.readManifest(dir).engines().size(), done.size());
    assertEquals(done.size(), builds.get());
    for (BuildJob.Engine e : done) {
      List<ConvertedModel.Payload> listed = plans(dir, e.name());
      assertEquals(1, listed.size(), listed.toString());
      ConvertedModel.Payload p = listed.get(0);
      byte[] plan = Files.readAllBytes(dir.resolve(p.file()));
      assertEquals("payloads/" + Sha256.hex(plan) + ".plan", p.file());
      assertEquals(Sha256.hex(plan), p.sha256());
      assertEquals(plan.length, p.bytes());
      assertEquals(e.key().asMap(), p.key(), "the payload's key is the engine key");
      assertEquals("fp32", p.precision());
      assertEquals(dir.resolve(p.file()), e.plan());
      assertTrue(new String(plan, StandardCharsets.UTF_8).startsWith("plan of " + e.name() + " for NVIDIA H200"));
      assertTrue(Payloads.find(ConvertedModel.readManifest(dir), e.name(), Payloads.ONNX).isPresent(), "the ONNX stays");
    }
    assertTrue(FolderSeal.verify(dir), "the seal covers the new plans and manifest");
    assertFalse(Files.exists(dir.resolve("engines")), "the plans are not stored twice in the folder");
  }

  @Test
  void aSecondBuildAndALoadUseTheListedPlanWithoutBuilding() {
    Path dir = TestModels.copyTree(converted, tmp.resolve("m"));
    BuildJob.run(options(dir, RANGE), provider(dir, H200, RANGE, tmp.resolve("user")), true);
    int after = builds.get();
    // a fresh user cache: only the manifest holds the plans
    List<BuildJob.Engine> again = BuildJob.run(options(dir, RANGE), provider(dir, H200, RANGE, tmp.resolve("fresh")), true);
    assertEquals(after, builds.get(), "nothing rebuilt");
    for (BuildJob.Engine e : again) {
      assertFalse(e.built());
      assertTrue(e.source().startsWith(ListedPlans.SOURCE), e.source());
      assertEquals(1, plans(dir, e.name()).size());
    }
    // at load (no --shape-range: any profile of this GPU's key will do), with building off
    String engine = again.get(0).name();
    EngineProvider atLoad = provider(dir, H200, BuildOptions.defaults(), tmp.resolve("fresh2"));
    EngineProvider.Request req = request(dir, engine);
    EngineProvider.Provided p = atLoad.cached(req);
    assertTrue(p != null && p.source().startsWith(ListedPlans.SOURCE), String.valueOf(p));
    assertArrayEquals(Payloads.read(dir, engine, plans(dir, engine).get(0)), p.plan());
    assertEquals(after, builds.get());
  }

  static EngineProvider.Request request(Path dir, String engine) {
    ConvertedModel.Manifest m = ConvertedModel.readManifest(dir);
    byte[] onnx = Payloads.read(dir, engine, Payloads.find(m, engine, Payloads.ONNX).orElseThrow());
    return new EngineProvider.Request(engine, onnx, "fp32", Map.of());
  }

  @Test
  void aPlanListedForAnotherGpuIsNotLoadedAndWithoutBuildingTheSentenceSaysWhatDiffers() {
    Path dir = TestModels.copyTree(converted, tmp.resolve("m"));
    List<BuildJob.Engine> done = BuildJob.run(options(dir, RANGE), provider(dir, H200, RANGE, tmp.resolve("user")), true);
    String engine = done.get(0).name();
    EngineProvider a10 = provider(dir, A10, RANGE, tmp.resolve("a10-cache"));
    assertEquals(null, a10.cached(request(dir, engine)));
    TftrtException e = assertThrows(TftrtException.class, () -> a10.provide(request(dir, engine), false));
    String m = e.getMessage();
    assertTrue(m.startsWith("engine " + engine + " has no TensorRT engine for NVIDIA A10"), m);
    assertTrue(m.contains("the plan listed for it in " + dir.resolve("tftrt.json") + " differs in the GPU (cached: "), m);
    assertTrue(m.endsWith("; build it with tftrt build, or allow building at run time."), m);
    assertFalse(m.contains("\n"), m);
    // building for the A10 lists a second plan beside the H200's; each GPU loads its own
    BuildJob.run(options(dir, RANGE), provider(dir, A10, RANGE, tmp.resolve("a10-cache")), true);
    assertEquals(2, plans(dir, engine).size());
    String h200 = new String(provider(dir, H200, RANGE, tmp.resolve("x")).cached(request(dir, engine)).plan(), StandardCharsets.UTF_8);
    String onA10 = new String(provider(dir, A10, RANGE, tmp.resolve("y")).cached(request(dir, engine)).plan(), StandardCharsets.UTF_8);
    assertTrue(h200.contains("for NVIDIA H200"), h200);
    assertTrue(onA10.contains("for NVIDIA A10"), onA10);
    assertTrue(FolderSeal.verify(dir));
  }

  @Test
  void aCorruptListedPlanIsNeverHandedOnButRebuiltAndListedAgain() throws Exception {
    Path dir = TestModels.copyTree(converted, tmp.resolve("m"));
    List<BuildJob.Engine> done = BuildJob.run(options(dir, RANGE), provider(dir, H200, RANGE, tmp.resolve("user")), true);
    String engine = done.get(0).name();
    Path plan = dir.resolve(plans(dir, engine).get(0).file());
    byte[] b = Files.readAllBytes(plan);
    b[b.length / 2] ^= 0x5a;
    Files.write(plan, b);
    EngineProvider fresh = provider(dir, H200, RANGE, tmp.resolve("fresh"));
    assertEquals(null, fresh.cached(request(dir, engine)), "a damaged listed plan is no hit");
    TftrtException e = assertThrows(TftrtException.class, () -> fresh.provide(request(dir, engine), false));
    assertTrue(e.getMessage().contains("the plan " + plans(dir, engine).get(0).file() + " listed in "), e.getMessage());
    int before = builds.get();
    BuildJob.Engine rebuilt = BuildJob.run(options(dir, RANGE), fresh, true).get(0);
    assertTrue(rebuilt.built());
    assertEquals(before + done.size(), builds.get());
    List<ConvertedModel.Payload> listed = plans(dir, engine);
    assertEquals(1, listed.size(), "the entry of the same key is replaced");
    assertNotEquals(Sha256.hex(b), listed.get(0).sha256());
    assertArrayEquals(Files.readAllBytes(dir.resolve(listed.get(0).file())), Payloads.read(dir, engine, listed.get(0)));
  }

  @Test
  void withAnEngineCacheOutsideTheFolderTheManifestIsLeftAlone() throws Exception {
    Path dir = TestModels.copyTree(converted, tmp.resolve("m"));
    byte[] manifest = Files.readAllBytes(dir.resolve("tftrt.json"));
    Path cache = tmp.resolve("cache");
    BuildJob.Options o = new BuildJob.Options(dir, cache, RANGE, false);
    assertFalse(BuildJob.intoFolder(o, BuildJob.check(o)));
    assertTrue(BuildJob.intoFolder(options(dir, RANGE), BuildJob.check(options(dir, RANGE))));
    EngineProvider p = new EngineProvider(H200, RANGE, List.of(new EngineCache(cache)), null,
        (name, onnx, profile, options, g, progress) -> new EngineBuilder.Built(new byte[] {1, 2, 3}, null, 1), null);
    List<BuildJob.Engine> done = BuildJob.run(o, p, false);
    assertArrayEquals(manifest, Files.readAllBytes(dir.resolve("tftrt.json")));
    assertEquals(new EngineCache(cache).planFile(done.get(0).key()), done.get(0).plan());
    assertTrue(Files.isRegularFile(done.get(0).plan()));
  }
}
