// Example clips on the home page: one click analyses a clip and shows the result in place.
import { enhance } from "./clipform.js";

document.querySelectorAll("form[data-example]").forEach((form) => {
  form.dataset.errorTarget = "examples-status";
  enhance(form);
});
