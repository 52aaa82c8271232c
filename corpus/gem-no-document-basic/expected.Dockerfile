FROM ruby:3.3
RUN gem install --no-document bundler && gem install --no-document rails -v 7.1
