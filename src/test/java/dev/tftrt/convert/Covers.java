package dev.tftrt.convert;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The TensorFlow op types a converter test checks numerically. {@link CoverageExtension} fails
 * the test unless each was really converted in a passing comparison, and {@code
 * RegistryCoverageTest} fails when a registered op type is covered by no test.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Covers {
  String[] value();
}
