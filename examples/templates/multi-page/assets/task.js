// A task over several pages: one page per review, then a last page for feedback. The answers are
// kept in memory while the worker moves back and forth, and submitted once, at the end, with
// window.hitstate.submit (the wrapper stores them on the task server, then on MTurk).
(() => {
  var reviews = [];
  var ratings = [];
  var page = 0;
  var back = document.getElementById('back');
  var next = document.getElementById('next');
  var error = document.getElementById('form-error');

  function showError(text) {
    error.textContent = text;
    error.hidden = text === '';
  }

  function checked() {
    var input = document.querySelector('input[name="rating"]:checked');
    return input ? Number(input.value) : null;
  }

  function show() {
    var onReview = page < reviews.length;
    document.getElementById('review-page').hidden = !onReview;
    document.getElementById('final-page').hidden = onReview;
    document.getElementById('progress').textContent = onReview
      ? `Review ${page + 1} of ${reviews.length}`
      : 'Last page';
    if (onReview) {
      document.getElementById('review').textContent = reviews[page];
      document.querySelectorAll('input[name="rating"]').forEach((input) => {
        input.checked = Number(input.value) === ratings[page];
      });
    }
    back.disabled = page === 0;
    next.textContent = onReview ? 'Next' : 'Submit';
  }

  window.hitstate.getTask().then(
    (task) => {
      var data = task.data || {};
      document.getElementById('product').textContent = data.product || 'a product';
      reviews = Array.isArray(data.reviews) ? data.reviews : ['(reviews appear here once you accept)'];
      show();
      if (task.isPreview) document.getElementById('preview-note').hidden = false;
      else if (!task.submitted) next.disabled = false;
    },
    (err) => showError(`The task could not be loaded: ${err.message}`),
  );

  back.addEventListener('click', () => {
    if (page < reviews.length) ratings[page] = checked();
    page--;
    showError('');
    show();
  });

  next.addEventListener('click', () => {
    var rating = checked();
    if (page < reviews.length) {
      if (rating === null) return showError('Pick a rating from 1 to 5.');
      ratings[page] = rating;
      page++;
      showError('');
      return show();
    }
    next.disabled = true;
    var answer = { ratings: ratings.slice(0, reviews.length), feedback: document.getElementById('feedback').value };
    window.hitstate.submit(answer).catch((err) => {
      next.disabled = false;
      showError(`Your answers were not saved (${err.message}). Please try again.`);
    });
  });
})();
