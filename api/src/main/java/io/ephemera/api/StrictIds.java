package io.ephemera.api;

import java.beans.PropertyEditorSupport;
import java.util.regex.Pattern;
import org.springframework.web.bind.WebDataBinder;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.InitBinder;

/**
 * Path ids and other whole-number parameters as written, nothing else. Spring's own conversion
 * trims whitespace ({@code /review-apps/1/%201} is iid 1) and Java reads other scripts' digits
 * ({@code １} is 1), so an id that is not plain digits would reach a workflow as if it were. A
 * custom editor takes precedence over the conversion service; its refusal is a type mismatch, which
 * the problem handler answers with 400 {@code invalid-field} naming the parameter.
 */
@ControllerAdvice
class StrictIds {
  private static final Pattern PLAIN_LONG = Pattern.compile("-?[0-9]{1,19}");

  @InitBinder
  void strictWholeNumbers(WebDataBinder binder) {
    binder.registerCustomEditor(long.class, new Editor());
    binder.registerCustomEditor(Long.class, new Editor());
  }

  static long parse(String text) {
    if (text == null || !PLAIN_LONG.matcher(text).matches()) {
      throw new IllegalArgumentException("not a plain whole number");
    }
    return Long.parseLong(text);
  }

  private static final class Editor extends PropertyEditorSupport {
    @Override
    public void setAsText(String text) {
      setValue(parse(text));
    }
  }
}
