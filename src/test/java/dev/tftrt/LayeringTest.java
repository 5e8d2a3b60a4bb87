package dev.tftrt;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packages are the pipeline's stages, so they must form layers: no dependency cycle between
 * any two packages (subpackages count as packages of their own), and nothing below the jobs
 * reaches up into them or into the CLI. Read from the compiled classes, so a reference written
 * out in full in code counts as much as an import.
 */
class LayeringTest {
  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("dev.tftrt");
  }

  @Test
  void noPackageCycles() {
    slices().matching("dev.tftrt.(**)").should().beFreeOfCycles().check(main);
  }

  @Test
  void onlyTheCliAndTheDemoUseTheJobs() {
    noClasses().that().resideOutsideOfPackages("dev.tftrt.pipeline..", "dev.tftrt.cli..", "dev.tftrt.demo..",
            "dev.tftrt.bench..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.tftrt.pipeline..").check(main);
  }

  @Test
  void nothingButTheCliUsesTheCli() {
    noClasses().that().resideOutsideOfPackage("dev.tftrt.cli..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.tftrt.cli..").check(main);
  }

  @Test
  void theBottomLayersKnowNothingOfTheStages() {
    noClasses().that().resideInAnyPackage("dev.tftrt.util..", "dev.tftrt.tensor..", "dev.tftrt.model..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.tftrt.freeze..", "dev.tftrt.optimize..",
            "dev.tftrt.convert..", "dev.tftrt.precision..", "dev.tftrt.segment..", "dev.tftrt.splice..",
            "dev.tftrt.build..", "dev.tftrt.runtime..", "dev.tftrt.pipeline..", "dev.tftrt.cli..")
        .check(main);
  }
}
