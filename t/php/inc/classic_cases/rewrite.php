<?php
// output_add_rewrite_var() on the request's own output
output_add_rewrite_var('tok', 'abc');
echo '<a href="/page">link</a> <a href="http://elsewhere.test/">out</a> <form action="/f" method="post"></form>';
