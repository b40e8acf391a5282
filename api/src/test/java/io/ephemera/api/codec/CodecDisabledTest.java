package io.ephemera.api.codec;

import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.options;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import io.ephemera.apitest.ApiTestApplication;
import io.ephemera.apitest.Fixtures;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.MockMvc;

/** A deployment with {@code ephemera.codec.enabled=false}: the endpoint says so, readably. */
@SpringBootTest(classes = ApiTestApplication.class, properties = "apitest.codec=disabled")
@AutoConfigureMockMvc
class CodecDisabledTest {
  @Autowired MockMvc mvc;

  @Test
  void bothEndpointsAnswer404CodecDisabled() throws Exception {
    for (String path : new String[] {"/codec/decode", "/codec/encode"}) {
      mvc.perform(
              post(path)
                  .header("Authorization", CodecControllerTest.TOKEN)
                  .contentType(MediaType.APPLICATION_JSON)
                  .content("{\"payloads\":[]}"))
          .andExpect(status().isNotFound())
          .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
          .andExpect(jsonPath("$.type").value(CodecControllerTest.PROBLEMS + "codec-disabled"))
          .andExpect(jsonPath("$.detail").value(org.hamcrest.Matchers.containsString("enabled")));
    }
  }

  @Test
  void theUiStillGetsItsPreflightSoItCanReadThatAnswer() throws Exception {
    mvc.perform(
            options("/codec/decode")
                .header("Origin", Fixtures.CODEC_UI_ORIGIN)
                .header("Access-Control-Request-Method", "POST"))
        .andExpect(status().isOk())
        .andExpect(header().string("Access-Control-Allow-Origin", Fixtures.CODEC_UI_ORIGIN));
  }

  @Test
  void authenticationStillComesFirst() throws Exception {
    mvc.perform(
            post("/codec/decode")
                .contentType(MediaType.APPLICATION_JSON)
                .content("{\"payloads\":[]}"))
        .andExpect(status().isUnauthorized());
  }
}
