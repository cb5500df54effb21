// The task page's script. It uses only the wrapper's API: window.hitstate.getTask() gives the
// unit's input (one item of "units" in hitstate.config.json), window.hitstate.submit(answer)
// stores the answer on the task server, then on MTurk.
(() => {
  var form = document.getElementById('task-form');
  var error = document.getElementById('form-error');
  var button = document.getElementById('submit-button');

  function showError(text) {
    error.textContent = text;
    error.hidden = text === '';
  }

  window.hitstate.getTask().then(
    (task) => {
      var data = task.data || {};
      // textContent, never innerHTML: task data is not trusted markup.
      document.getElementById('sentence').textContent = data.text || '(a sentence appears here once you accept)';
      if (task.isPreview) document.getElementById('preview-note').hidden = false;
      else if (!task.submitted) button.disabled = false;
    },
    (err) => showError(`The task could not be loaded: ${err.message}`),
  );

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    var choice = form.querySelector('input[name="topic"]:checked');
    if (!choice) return showError('Pick a topic.');
    showError('');
    button.disabled = true;
    window.hitstate.submit({ topic: choice.value }).catch((err) => {
      button.disabled = false;
      showError(`Your answer was not saved (${err.message}). Please try again.`);
    });
  });
})();
