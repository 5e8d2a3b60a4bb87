package dev.tftrt.pipeline;

import dev.tftrt.runtime.backend.Backend;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, class 12: convert checks its result in a hidden temporary folder before moving it into
 * place; a failure there must name the user's paths, never that folder (".crnn.944a6b59.tmp could
 * not be imported").
 */
class ConvertMessagesTest {
  @TempDir Path tmp;

  @Test
  void aFailureWhileCheckingTheConvertedModelNamesTheTargetNotTheTemporaryFolder() {
    Path model = tmp.resolve("demo");
    DemoModel.save(model, 9);
    Path out = tmp.resolve("converted");
    // Fixed at batch 2 for conversion, then checked on a batch of 3: the engine refuses it.
    ConvertJob.Options o = ConvertJob.builder(LoadOptions.of(model), out).shapes(Map.of("image", new long[] {2, 16, 16, 3})).backend(Backend.ONNXRUNTIME).givenFor(r -> Map.of("image", TestModels.randomFloats(1, 3, 16, 16, 3))).build();
    TftrtException e = assertThrows(TftrtException.class, () -> ConvertJob.run(o));
    String m = e.getMessage();
    assertFalse(m.contains(".tmp") || m.contains("." + out.getFileName() + "."), m);
    assertTrue(m.startsWith("the model converted for " + out + " "), m);
    assertEquals(List.of("demo"), TestModels.listing(tmp), "nothing was written");
  }
}
